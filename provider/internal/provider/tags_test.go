package provider

import (
	"context"
	"maps"
	"slices"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/types"
)

func TestOwnTagsAndMergeTags(t *testing.T) {
	t.Parallel()
	defaults := map[string]string{"env": "prod", "team": "web"}
	tests := []struct {
		name    string
		remote  map[string]string
		prior   map[string]string
		wantOwn map[string]string
	}{
		{
			name:    "defaults alone are not the resource's own",
			remote:  map[string]string{"env": "prod", "team": "web"},
			wantOwn: map[string]string{},
		},
		{
			name:    "a default overridden with another value is own",
			remote:  map[string]string{"env": "prod", "team": "media"},
			wantOwn: map[string]string{"team": "media"},
		},
		{
			name:    "a configured tag equal to a default stays own (no perpetual diff)",
			remote:  map[string]string{"env": "prod", "team": "web"},
			prior:   map[string]string{"team": "web"},
			wantOwn: map[string]string{"team": "web"},
		},
		{
			name:    "a tag added out of band shows up as own",
			remote:  map[string]string{"env": "prod", "team": "web", "extra": "x"},
			wantOwn: map[string]string{"extra": "x"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := ownTags(tt.remote, defaults, tt.prior); !maps.Equal(got, tt.wantOwn) {
				t.Errorf("ownTags = %v, want %v", got, tt.wantOwn)
			}
		})
	}
	if got, want := mergeTags(defaults, map[string]string{"team": "media", "app": "img"}),
		map[string]string{"env": "prod", "team": "media", "app": "img"}; !maps.Equal(got, want) {
		t.Errorf("mergeTags = %v, want %v (the resource's own tags win)", got, want)
	}
}

func TestTagChanges(t *testing.T) {
	t.Parallel()
	removed, changed := tagChanges(
		map[string]string{"keep": "1", "change": "old", "drop": "x"},
		map[string]string{"keep": "1", "change": "new", "add": "y"},
	)
	slices.Sort(removed)
	if want := []string{"drop"}; !slices.Equal(removed, want) {
		t.Errorf("removed = %v, want %v", removed, want)
	}
	if want := map[string]string{"change": "new", "add": "y"}; !maps.Equal(changed, want) {
		t.Errorf("changed = %v, want %v", changed, want)
	}
}

func TestPlanAndReadTags(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	defaults := map[string]string{"env": "prod"}

	all, diags := planTagsAll(ctx, defaults, types.MapUnknown(types.StringType))
	if diags.HasError() || !all.IsUnknown() {
		t.Errorf("planTagsAll(unknown tags) = %v, %v; want unknown", all, diags)
	}
	all, diags = planTagsAll(ctx, defaults, mapToTerraform(map[string]string{"env": "dev", "app": "img"}))
	if want := mapToTerraform(map[string]string{"env": "dev", "app": "img"}); diags.HasError() || !all.Equal(want) {
		t.Errorf("planTagsAll = %v, %v; want %v", all, diags, want)
	}

	// Null tags with only default tags on AWS stay null: a configuration without tags shows no diff.
	tags, all, diags := readTags(ctx, defaults, types.MapNull(types.StringType), map[string]string{"env": "prod"})
	if diags.HasError() || !tags.IsNull() || !all.Equal(mapToTerraform(defaults)) {
		t.Errorf("readTags(null, defaults only) = %v, %v, %v; want null, %v", tags, all, diags, defaults)
	}
	// A tag added out of band appears in tags, so the plan shows its removal.
	tags, _, _ = readTags(ctx, defaults, types.MapNull(types.StringType), map[string]string{"env": "prod", "x": "1"})
	if want := mapToTerraform(map[string]string{"x": "1"}); !tags.Equal(want) {
		t.Errorf("readTags(null, extra tag) tags = %v, want %v", tags, want)
	}
	// An empty configured map stays an empty map, not null.
	tags, _, _ = readTags(ctx, defaults, mapToTerraform(map[string]string{}), map[string]string{"env": "prod"})
	if tags.IsNull() || len(tags.Elements()) != 0 {
		t.Errorf("readTags(empty, defaults only) tags = %v, want an empty map", tags)
	}
}
