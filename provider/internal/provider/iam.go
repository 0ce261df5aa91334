package provider

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// updateIAMTags applies the difference between the tags in state (oldAll) and newTags to the user or role e
// with IAM's untag and tag calls. Removed keys are sorted so requests are reproducible.
func updateIAMTags(ctx context.Context, client *iam.Client, e iamEntity, oldAll types.Map, newTags map[string]string) error {
	oldTags, _, d := mapFromTerraform(ctx, oldAll)
	if d.HasError() {
		return fmt.Errorf("reading the tags in state: %v", d)
	}
	name := aws.String(e.name)
	removed, changed := tagChanges(oldTags, newTags)
	if len(removed) > 0 {
		slices.Sort(removed)
		var err error
		if e.kind == "Role" {
			_, err = client.UntagRole(ctx, &iam.UntagRoleInput{RoleName: name, TagKeys: removed})
		} else {
			_, err = client.UntagUser(ctx, &iam.UntagUserInput{UserName: name, TagKeys: removed})
		}
		if err != nil {
			return fmt.Errorf("untag: %w", err)
		}
	}
	if len(changed) > 0 {
		var err error
		if e.kind == "Role" {
			_, err = client.TagRole(ctx, &iam.TagRoleInput{RoleName: name, Tags: iamTags(changed)})
		} else {
			_, err = client.TagUser(ctx, &iam.TagUserInput{UserName: name, Tags: iamTags(changed)})
		}
		if err != nil {
			return fmt.Errorf("tag: %w", err)
		}
	}
	return nil
}

// putUploadPolicy puts the inline policy, retrying while IAM has not propagated a just-created user.
func putUploadPolicy(ctx context.Context, client *iam.Client, user, name, doc string) error {
	return retryIAMPropagation(ctx, func(ctx context.Context) error {
		_, err := client.PutUserPolicy(ctx, &iam.PutUserPolicyInput{
			UserName:       aws.String(user),
			PolicyName:     aws.String(name),
			PolicyDocument: aws.String(doc),
		})
		return err
	})
}

// retryIAMPropagation calls fn until it succeeds, retrying for at most iamPropagationBound (and within ctx)
// the errors IAM returns for an entity created a moment ago.
func retryIAMPropagation(ctx context.Context, fn func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, iamPropagationBound)
	defer cancel()
	return retryUntil(ctx, func(err error) bool { return isAPIError(err, errCodeNoSuchEntity, errCodeConcurrentModification) }, fn)
}

// findUser returns the user, or a notFoundError when IAM has no user of that name.
func findUser(ctx context.Context, client *iam.Client, name string) (*iamtypes.User, error) {
	out, err := client.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(name)})
	if err != nil {
		return nil, asNotFound(err, fmt.Sprintf("user %q", name))
	}
	u, err := userOf(out.User)
	if err != nil {
		return nil, fmt.Errorf("IAM GetUser for %q answered without the user: %w", name, err)
	}
	return u, nil
}

// findRole returns the role, or a notFoundError when IAM has no role of that name.
func findRole(ctx context.Context, client *iam.Client, name string) (*iamtypes.Role, error) {
	out, err := client.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
	if err != nil {
		return nil, asNotFound(err, fmt.Sprintf("role %q", name))
	}
	ro, err := roleOf(out.Role)
	if err != nil {
		return nil, fmt.Errorf("IAM GetRole for %q answered without the role: %w", name, err)
	}
	return ro, nil
}

// findUserPolicy returns the user's URL-decoded inline policy document, or a notFoundError when the user has
// no policy of that name.
func findUserPolicy(ctx context.Context, client *iam.Client, user, name string) (string, error) {
	return findInlinePolicy(fmt.Sprintf("inline policy %q of user %q", name, user), func() (*string, error) {
		out, err := client.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: aws.String(user), PolicyName: aws.String(name)})
		if err != nil {
			return nil, err
		}
		return out.PolicyDocument, nil
	})
}

// findRolePolicy is findUserPolicy for a role.
func findRolePolicy(ctx context.Context, client *iam.Client, role, name string) (string, error) {
	return findInlinePolicy(fmt.Sprintf("inline policy %q of role %q", name, role), func() (*string, error) {
		out, err := client.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(role), PolicyName: aws.String(name)})
		if err != nil {
			return nil, err
		}
		return out.PolicyDocument, nil
	})
}

// findInlinePolicy gets an inline policy (what names it in errors) and decodes its document.
func findInlinePolicy(what string, get func() (*string, error)) (string, error) {
	raw, err := get()
	if err != nil {
		return "", asNotFound(err, what)
	}
	doc, err := decodePolicyDocument(aws.ToString(raw))
	if err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	return doc, nil
}

// decodePolicyDocument undoes the RFC 3986 encoding IAM applies to returned documents. Engines that
// return the JSON as stored (moto) are passed through: decoding raw JSON would corrupt a literal %.
func decodePolicyDocument(raw string) (string, error) {
	if strings.HasPrefix(strings.TrimSpace(raw), "{") {
		return raw, nil
	}
	doc, err := url.PathUnescape(raw)
	if err != nil {
		return "", fmt.Errorf("decoding the policy document: %w", err)
	}
	return doc, nil
}

// soleInlinePolicyName returns the user's only inline policy name, or "" when it has none or several.
func soleInlinePolicyName(ctx context.Context, client *iam.Client, user string) (string, error) {
	var names []string
	p := iam.NewListUserPoliciesPaginator(client, &iam.ListUserPoliciesInput{UserName: aws.String(user)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return "", fmt.Errorf("list user policies: %w", err)
		}
		names = append(names, page.PolicyNames...)
	}
	if len(names) != 1 {
		return "", nil
	}
	return names[0], nil
}

func listUserTags(ctx context.Context, client *iam.Client, user string) (map[string]string, error) {
	tags := map[string]string{}
	p := iam.NewListUserTagsPaginator(client, &iam.ListUserTagsInput{UserName: aws.String(user)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, t := range page.Tags {
			tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
	}
	return tags, nil
}

func listAccessKeyIDs(ctx context.Context, client *iam.Client, user string) ([]string, error) {
	keys, err := listAccessKeys(ctx, client, user)
	ids := make([]string, 0, len(keys))
	for _, k := range keys {
		ids = append(ids, aws.ToString(k.AccessKeyId))
	}
	return ids, err
}

// listAccessKeys returns the metadata of every access key of the user.
func listAccessKeys(ctx context.Context, client *iam.Client, user string) ([]iamtypes.AccessKeyMetadata, error) {
	var keys []iamtypes.AccessKeyMetadata
	p := iam.NewListAccessKeysPaginator(client, &iam.ListAccessKeysInput{UserName: aws.String(user)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		keys = append(keys, page.AccessKeyMetadata...)
	}
	return keys, nil
}

// deleteUserDependencies removes everything IAM requires gone before DeleteUser (force_destroy).
// Service-specific credentials are left alone: few engines implement that API, and IAM's DeleteConflict
// names them if they are there.
func deleteUserDependencies(ctx context.Context, client *iam.Client, user string) error {
	u := aws.String(user)
	ignoreGone := func(err error) error {
		if isNotFound(err) {
			return nil
		}
		return err
	}
	keys, err := listAccessKeyIDs(ctx, client, user)
	if err != nil {
		return fmt.Errorf("list access keys: %w", ignoreGone(err))
	}
	for _, id := range keys {
		if _, err := client.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: u, AccessKeyId: aws.String(id)}); ignoreGone(err) != nil {
			return fmt.Errorf("delete access key %s: %w", id, err)
		}
	}
	inline := iam.NewListUserPoliciesPaginator(client, &iam.ListUserPoliciesInput{UserName: u})
	for inline.HasMorePages() {
		page, err := inline.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list inline policies: %w", err)
		}
		for _, name := range page.PolicyNames {
			if _, err := client.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: u, PolicyName: aws.String(name)}); ignoreGone(err) != nil {
				return fmt.Errorf("delete inline policy %s: %w", name, err)
			}
		}
	}
	attached := iam.NewListAttachedUserPoliciesPaginator(client, &iam.ListAttachedUserPoliciesInput{UserName: u})
	for attached.HasMorePages() {
		page, err := attached.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list attached policies: %w", err)
		}
		for _, p := range page.AttachedPolicies {
			if _, err := client.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: u, PolicyArn: p.PolicyArn}); ignoreGone(err) != nil {
				return fmt.Errorf("detach policy %s: %w", aws.ToString(p.PolicyArn), err)
			}
		}
	}
	groups := iam.NewListGroupsForUserPaginator(client, &iam.ListGroupsForUserInput{UserName: u})
	for groups.HasMorePages() {
		page, err := groups.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list groups: %w", err)
		}
		for _, g := range page.Groups {
			if _, err := client.RemoveUserFromGroup(ctx, &iam.RemoveUserFromGroupInput{UserName: u, GroupName: g.GroupName}); ignoreGone(err) != nil {
				return fmt.Errorf("remove from group %s: %w", aws.ToString(g.GroupName), err)
			}
		}
	}
	if _, err := client.DeleteLoginProfile(ctx, &iam.DeleteLoginProfileInput{UserName: u}); ignoreGone(err) != nil {
		return fmt.Errorf("delete login profile: %w", err)
	}
	mfa := iam.NewListMFADevicesPaginator(client, &iam.ListMFADevicesInput{UserName: u})
	for mfa.HasMorePages() {
		page, err := mfa.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list MFA devices: %w", err)
		}
		for _, d := range page.MFADevices {
			if _, err := client.DeactivateMFADevice(ctx, &iam.DeactivateMFADeviceInput{UserName: u, SerialNumber: d.SerialNumber}); ignoreGone(err) != nil {
				return fmt.Errorf("deactivate MFA device %s: %w", aws.ToString(d.SerialNumber), err)
			}
		}
	}
	certs, err := client.ListSigningCertificates(ctx, &iam.ListSigningCertificatesInput{UserName: u})
	if err != nil {
		return fmt.Errorf("list signing certificates: %w", err)
	}
	for _, c := range certs.Certificates {
		if _, err := client.DeleteSigningCertificate(ctx, &iam.DeleteSigningCertificateInput{UserName: u, CertificateId: c.CertificateId}); ignoreGone(err) != nil {
			return fmt.Errorf("delete signing certificate %s: %w", aws.ToString(c.CertificateId), err)
		}
	}
	sshKeys, err := client.ListSSHPublicKeys(ctx, &iam.ListSSHPublicKeysInput{UserName: u})
	if err != nil {
		return fmt.Errorf("list SSH public keys: %w", err)
	}
	for _, k := range sshKeys.SSHPublicKeys {
		if _, err := client.DeleteSSHPublicKey(ctx, &iam.DeleteSSHPublicKeyInput{UserName: u, SSHPublicKeyId: k.SSHPublicKeyId}); ignoreGone(err) != nil {
			return fmt.Errorf("delete SSH public key %s: %w", aws.ToString(k.SSHPublicKeyId), err)
		}
	}
	return nil
}

// userOf checks that an IAM answer carries the user with the fields this resource stores, so a malformed
// answer (an engine or proxy that drops them) is an error instead of a nil pointer dereference.
func userOf(u *iamtypes.User) (*iamtypes.User, error) {
	switch {
	case u == nil:
		return nil, errors.New("the response has no User element")
	case aws.ToString(u.Arn) == "":
		return nil, errors.New("the response names no user ARN")
	}
	return u, nil
}

// iamTags converts a tag map to IAM tags, sorted by key so requests are reproducible.
func iamTags(m map[string]string) []iamtypes.Tag {
	keys := slices.Sorted(maps.Keys(m))
	tags := make([]iamtypes.Tag, 0, len(keys))
	for _, k := range keys {
		tags = append(tags, iamtypes.Tag{Key: aws.String(k), Value: aws.String(m[k])})
	}
	return tags
}

// roleOf checks that an IAM answer carries the role, as userOf does for the user.
func roleOf(r *iamtypes.Role) (*iamtypes.Role, error) {
	switch {
	case r == nil:
		return nil, errors.New("the response has no Role element")
	case aws.ToString(r.Arn) == "":
		return nil, errors.New("the response names no role ARN")
	}
	return r, nil
}

// putRoleUploadPolicy puts the inline policy, retrying while IAM has not propagated a just-created role.
func putRoleUploadPolicy(ctx context.Context, client *iam.Client, role, doc string) error {
	return retryIAMPropagation(ctx, func(ctx context.Context) error {
		_, err := client.PutRolePolicy(ctx, &iam.PutRolePolicyInput{
			RoleName:       aws.String(role),
			PolicyName:     aws.String(defaultUploadPolicyName),
			PolicyDocument: aws.String(doc),
		})
		return err
	})
}

func listRoleTags(ctx context.Context, client *iam.Client, role string) (map[string]string, error) {
	tags := map[string]string{}
	p := iam.NewListRoleTagsPaginator(client, &iam.ListRoleTagsInput{RoleName: aws.String(role)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, t := range page.Tags {
			tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
	}
	return tags, nil
}

// createAccessKey creates a key, retrying while IAM has not propagated a just-created user.
func createAccessKey(ctx context.Context, client *iam.Client, user string) (*iamtypes.AccessKey, error) {
	var key *iamtypes.AccessKey
	err := retryIAMPropagation(ctx, func(ctx context.Context) error {
		out, err := client.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(user)})
		if err != nil {
			return err
		}
		key = out.AccessKey
		return nil
	})
	if err != nil {
		return nil, err
	}
	if key == nil || key.AccessKeyId == nil || key.SecretAccessKey == nil {
		return nil, errors.New("the response carried no access key")
	}
	return key, nil
}

// isKeyPropagationError reports the answers STS gives for a key it does not know yet.
func isKeyPropagationError(err error) bool {
	return isAPIError(err, errCodeInvalidClientTokenId, errCodeSignatureDoesNotMatch, errCodeAccessDenied, errCodeUnrecognizedClientException)
}

func updateAccessKeyStatus(ctx context.Context, client *iam.Client, user, id, status string) error {
	_, err := client.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{
		UserName:    aws.String(user),
		AccessKeyId: aws.String(id),
		Status:      iamtypes.StatusType(status),
	})
	return err
}

// findAccessKey returns the key's metadata, or a notFoundError when the user or the key is gone.
func findAccessKey(ctx context.Context, client *iam.Client, user, id string) (*iamtypes.AccessKeyMetadata, error) {
	keys, err := listAccessKeys(ctx, client, user)
	if err != nil {
		return nil, asNotFound(err, fmt.Sprintf("user %q", user))
	}
	for _, k := range keys {
		if aws.ToString(k.AccessKeyId) == id {
			return &k, nil
		}
	}
	return nil, &notFoundError{what: fmt.Sprintf("access key %s of user %q", id, user)}
}

// accessKeyOwner returns the user a key belongs to.
func accessKeyOwner(ctx context.Context, client *iam.Client, id string) (string, error) {
	out, err := client.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(id)})
	if err != nil {
		return "", fmt.Errorf("IAM GetAccessKeyLastUsed: %w", err)
	}
	if aws.ToString(out.UserName) == "" {
		return "", errors.New("IAM GetAccessKeyLastUsed named no user")
	}
	return aws.ToString(out.UserName), nil
}

// partitionOf is the AWS partition of the caller's identity, "" before the provider is configured.
func partitionOf(pd *providerData) string {
	if pd == nil {
		return ""
	}
	return pd.partition
}
