package policy

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// The parsers below read the two documents back for import: a resource imported by name only knows its
// inputs once they are recovered from the policy AWS stores. They accept what engines hand back, not only
// what UploadOnly and RefererRead write: a single statement object instead of a list, a string instead of a
// one-element list, condition values as true or "true", and MinIO's rewritten {"AWS": ["*"]} principal
// (principals are not read at all).

// ParseUploadOnly recovers bucket, key prefix, partition and extra actions from an upload-only identity
// policy: the first Allow statement that grants s3:PutObject, on the bucket ARN and/or one objects ARN
// (BUCKET/PREFIX*) of the same bucket. ExtraActions are that statement's other actions, sorted. It returns
// an error when no statement has that shape.
func ParseUploadOnly(doc string) (UploadOnlyInput, error) {
	statements, err := parseStatements(doc)
	if err != nil {
		return UploadOnlyInput{}, err
	}
	for _, st := range statements {
		actions, _ := stringValues(st.Action)
		resources, _ := stringValues(st.Resource)
		isPut := func(a string) bool { return strings.EqualFold(a, actionPutObject) }
		if st.Effect != "Allow" || !slices.ContainsFunc(actions, isPut) {
			continue
		}
		var out UploadOnlyInput
		for _, a := range actions {
			if !isPut(a) {
				out.ExtraActions = append(out.ExtraActions, a)
			}
		}
		slices.Sort(out.ExtraActions)
		var objectsBucket string
		for _, res := range resources {
			// arn:PARTITION:s3:::BUCKET or arn:PARTITION:s3:::BUCKET/PREFIX*
			parts := strings.SplitN(res, ":", 6)
			if len(parts) != 6 || parts[0] != "arn" || parts[2] != "s3" {
				return UploadOnlyInput{}, fmt.Errorf("the s3:PutObject statement's resource %q is not an S3 ARN", res)
			}
			if out.Partition != "" && parts[1] != out.Partition {
				return UploadOnlyInput{}, fmt.Errorf("the s3:PutObject statement mixes the partitions %s and %s", out.Partition, parts[1])
			}
			out.Partition = parts[1]
			if bucket, rest, isObjects := strings.Cut(parts[5], "/"); isObjects {
				objectsBucket = bucket
				out.KeyPrefix = strings.TrimSuffix(rest, "*")
			} else {
				out.Bucket = bucket
			}
		}
		if out.Bucket == "" {
			out.Bucket = objectsBucket
		}
		switch {
		case out.Bucket == "":
			return UploadOnlyInput{}, errors.New("the s3:PutObject statement names no bucket")
		case objectsBucket != "" && objectsBucket != out.Bucket:
			return UploadOnlyInput{}, fmt.Errorf("the s3:PutObject statement names two buckets, %q and %q", out.Bucket, objectsBucket)
		}
		return out, nil
	}
	return UploadOnlyInput{}, errors.New("no statement allows s3:PutObject")
}

// ParseRefererRead recovers the Referer patterns and the empty-Referer branch from a bucket policy: every
// StringLike aws:Referer pattern of an Allow statement, in order without duplicates, and whether an Allow
// statement has Null aws:Referer true. Partition and Bucket are left empty: a bucket policy is read from its
// bucket, so the caller knows both. Domains given to ExpandDomains cannot be told apart from patterns and
// come back as patterns.
func ParseRefererRead(doc string) (RefererReadInput, error) {
	statements, err := parseStatements(doc)
	if err != nil {
		return RefererReadInput{}, err
	}
	var out RefererReadInput
	seen := map[string]bool{}
	for _, st := range statements {
		if st.Effect != "Allow" {
			continue
		}
		for op, keys := range st.Condition {
			for key, raw := range keys {
				if !strings.EqualFold(key, conditionKeyReferer) {
					continue
				}
				values, err := stringValues(raw)
				if err != nil {
					return RefererReadInput{}, fmt.Errorf("condition %s %s: %w", op, key, err)
				}
				switch op {
				case "StringLike":
					for _, v := range values {
						if !seen[v] {
							seen[v] = true
							out.Referers = append(out.Referers, v)
						}
					}
				case "Null":
					if slices.ContainsFunc(values, func(v string) bool { return strings.EqualFold(v, "true") }) {
						out.AllowEmptyReferer = true
					}
				}
			}
		}
	}
	return out, nil
}

// rawStatement is a statement as stored, with the elements that may be a string or a list left raw.
type rawStatement struct {
	Effect    string                                `json:"Effect"`
	Principal json.RawMessage                       `json:"Principal"`
	Action    json.RawMessage                       `json:"Action"`
	Resource  json.RawMessage                       `json:"Resource"`
	Condition map[string]map[string]json.RawMessage `json:"Condition"`
}

// parseStatements decodes a document's statements; a single statement object counts as a list of one.
func parseStatements(doc string) ([]rawStatement, error) {
	var parsed struct {
		Statement json.RawMessage `json:"Statement"`
	}
	if err := json.Unmarshal([]byte(doc), &parsed); err != nil {
		return nil, fmt.Errorf("parse policy: %w", err)
	}
	var statements []rawStatement
	if err := json.Unmarshal(parsed.Statement, &statements); err != nil {
		var one rawStatement
		if err2 := json.Unmarshal(parsed.Statement, &one); err2 != nil {
			return nil, fmt.Errorf("parse policy statements: %w", err)
		}
		statements = []rawStatement{one}
	}
	return statements, nil
}

// stringValues flattens a policy element or condition value: "x", true, ["x", "y"] or [true].
func stringValues(raw json.RawMessage) ([]string, error) {
	var list []any
	if err := json.Unmarshal(raw, &list); err != nil {
		var one any
		if err := json.Unmarshal(raw, &one); err != nil {
			return nil, err
		}
		list = []any{one}
	}
	out := make([]string, 0, len(list))
	for _, v := range list {
		switch v := v.(type) {
		case string:
			out = append(out, v)
		case bool:
			out = append(out, fmt.Sprint(v))
		default:
			return nil, fmt.Errorf("unexpected value %v", v)
		}
	}
	return out, nil
}
