package provider

import (
	"context"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
)

// timeoutFunc is one of timeouts.Value's Create, Read, Update or Delete methods: the configured timeout of
// the operation, or def.
type timeoutFunc func(ctx context.Context, def time.Duration) (time.Duration, diag.Diagnostics)

// withTimeout bounds ctx by the operation's timeout (the resource's timeouts block, or def). Every CRUD method
// starts with it; a malformed timeout is added to diags, and the caller returns when diags has an error. cancel
// is never nil.
func withTimeout(ctx context.Context, timeout timeoutFunc, def time.Duration, diags *diag.Diagnostics) (context.Context, context.CancelFunc) {
	d, ds := timeout(ctx, def)
	diags.Append(ds...)
	if ds.HasError() {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, d)
}
