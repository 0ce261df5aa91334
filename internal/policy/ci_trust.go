package policy

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"
)

// Identifiers of the CI trust policy. Like the other Sids they are part of the shipped contract,
// because Equivalent compares Sids.
const (
	SidAssumeFromCI = "AssumeUploadRoleFromCI"
	// DefaultCIAudience is the audience AWS's own credential actions ask the CI for
	// (aws-actions/configure-aws-credentials, the SDKs' web identity provider docs).
	DefaultCIAudience       = "sts.amazonaws.com"
	actionAssumeWebIdentity = "sts:AssumeRoleWithWebIdentity"
	githubIssuerHost        = "token.actions.githubusercontent.com"
	gitlabIssuerHost        = "gitlab.com"
)

// CITrustInput describes the trust policy of a role that CI jobs assume with their OIDC token.
type CITrustInput struct {
	// OIDCProviderARN is the IAM OIDC identity provider of the CI's issuer:
	// arn:PARTITION:iam::ACCOUNT:oidc-provider/HOST[/PATH].
	OIDCProviderARN string
	// Audience is the token's aud claim the role accepts; "" means DefaultCIAudience.
	Audience string
	// Subjects are StringLike patterns for the token's sub claim; see ValidateCISubject.
	Subjects []string
}

// CIPlatform is the CI whose subject format ValidateCISubject enforces.
type CIPlatform int

// The platforms whose sub claim format is known.
const (
	// CIOther is any other issuer: only subjects that begin with a wildcard are refused.
	CIOther CIPlatform = iota
	// CIGitHub is GitHub Actions: sub is repo:OWNER/NAME:CONTEXT.
	CIGitHub
	// CIGitLab is GitLab CI/CD: sub is project_path:GROUP/PROJECT:ref_type:TYPE:ref:REF.
	CIGitLab
)

// OIDCProvider is an IAM OIDC provider ARN taken apart.
type OIDCProvider struct {
	Partition string
	Account   string
	// Issuer is the provider's URL without its scheme (HOST or HOST/PATH), which IAM uses as the
	// prefix of the token's condition keys: ISSUER:sub, ISSUER:aud.
	Issuer string
}

// Platform tells GitHub and GitLab issuers apart by their host, the only thing a trust policy knows
// about the CI:
//   - GitHub: token.actions.githubusercontent.com (with or without an enterprise path), or an issuer
//     ending in /_services/token (GitHub Enterprise Server).
//   - GitLab: gitlab.com, or a self-hosted instance whose host's first label is "gitlab"
//     (gitlab.example.com).
//
// Any other issuer is CIOther. Subjects that can match GitHub's (repo:...) or GitLab's (project_path:...)
// are held to that platform's rule whatever the issuer, so a self-hosted GitLab under another name is
// still protected against project_path:*.
func (p OIDCProvider) Platform() CIPlatform {
	issuer := strings.ToLower(p.Issuer)
	host, _, _ := strings.Cut(issuer, "/")
	switch {
	case host == githubIssuerHost, strings.HasSuffix(issuer, "/_services/token"):
		return CIGitHub
	case host == gitlabIssuerHost, strings.HasPrefix(host, "gitlab."):
		return CIGitLab
	}
	return CIOther
}

// oidcProviderARNRE is arn:PARTITION:iam::ACCOUNT:oidc-provider/ISSUER.
var oidcProviderARNRE = regexp.MustCompile(`^arn:([^:]*):iam::([0-9]{12}):oidc-provider/([^\s*?]+)$`)

// ParseOIDCProviderARN takes an IAM OIDC provider ARN apart.
func ParseOIDCProviderARN(arn string) (OIDCProvider, error) {
	m := oidcProviderARNRE.FindStringSubmatch(arn)
	if m == nil || strings.HasSuffix(m[3], "/") {
		return OIDCProvider{}, fmt.Errorf("OIDC provider ARN %q is not an IAM OIDC provider ARN: it looks like "+
			"arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com (the arn of an "+
			"aws_iam_openid_connect_provider)", arn)
	}
	if !partitionRE.MatchString(m[1]) {
		return OIDCProvider{}, fmt.Errorf("OIDC provider ARN %q has %q as partition, which is not an AWS partition name (aws, aws-cn, aws-us-gov, ...)", arn, m[1])
	}
	return OIDCProvider{Partition: m[1], Account: m[2], Issuer: m[3]}, nil
}

// CITrust builds the trust policy of the upload role: the OIDC provider may have tokens exchanged
// for the role's credentials (sts:AssumeRoleWithWebIdentity) when the token's aud claim equals the
// audience and its sub claim matches one of the subjects. Subjects are sorted and deduplicated so
// the document does not depend on the order they were given in (a Terraform set has none).
func CITrust(in CITrustInput) (Document, error) {
	provider, err := ParseOIDCProviderARN(in.OIDCProviderARN)
	if err != nil {
		return Document{}, err
	}
	audience := in.Audience
	if audience == "" {
		audience = DefaultCIAudience
	}
	if err := ValidateCIAudience(audience); err != nil {
		return Document{}, err
	}
	subjects, err := ValidateCISubjects(provider, in.Subjects)
	if err != nil {
		return Document{}, err
	}
	return Document{
		Version: Version,
		Statement: []Statement{{
			Sid:       SidAssumeFromCI,
			Effect:    "Allow",
			Principal: map[string]any{"Federated": in.OIDCProviderARN},
			Action:    actionAssumeWebIdentity,
			Condition: map[string]map[string]any{
				"StringEquals": {provider.Issuer + ":aud": audience},
				"StringLike":   {provider.Issuer + ":sub": subjects},
			},
		}},
	}, nil
}

// ValidateCISubjects checks every subject (reporting all bad ones at once) and returns them sorted
// without duplicates. At least one is required: a trust policy without a sub condition would let
// every token of the issuer in, which on GitHub or GitLab means every repository on the platform.
func ValidateCISubjects(provider OIDCProvider, subjects []string) ([]string, error) {
	if len(subjects) == 0 {
		return nil, errors.New("no CI subjects given: list the sub claims allowed to assume the role, for example " +
			"\"repo:OWNER/NAME:ref:refs/heads/main\" on GitHub or \"project_path:GROUP/PROJECT:ref_type:branch:ref:main\" on GitLab")
	}
	out, err := collectValid(subjects, func(s string) ([]string, error) {
		return []string{s}, ValidateCISubject(provider.Platform(), s)
	})
	if err != nil {
		return nil, err
	}
	slices.Sort(out)
	return out, nil
}

// githubSubjectRE is repo:OWNER/NAME: followed by the context, with literal OWNER and NAME.
// gitlabSubjectRE is project_path:GROUP/ followed by the rest of the path, with a literal top-level group.
var (
	githubSubjectRE = regexp.MustCompile(`^repo:[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+:.+$`)
	gitlabSubjectRE = regexp.MustCompile(`^project_path:[A-Za-z0-9_.-]+/.+$`)
)

// ValidateCISubject checks one sub claim StringLike pattern. It refuses the patterns that would let
// tokens of other owners' repositories assume the role, the common mistake with OIDC trust policies
// (a token of any repository on github.com is signed by the same issuer):
//   - a pattern that begins with a wildcard ("*", "?*"), which matches every subject of the issuer;
//   - on GitHub, or for any pattern that can match a subject beginning with "repo:" ("repo*" can), one that
//     does not start with a literal repo:OWNER/NAME: (so "repo:*", "repo:*/app:*", "repo:org/*" and
//     "repo:org*" are refused);
//   - on GitLab, or for any pattern that can match a subject beginning with "project_path:", one that does
//     not start with a literal project_path:GROUP/ (subgroups and projects of that group may be wildcards).
//
// It also refuses "${", which IAM substitutes as a policy variable, and whitespace or control
// characters, which no sub claim contains.
func ValidateCISubject(platform CIPlatform, subject string) error {
	switch {
	case subject == "":
		return errors.New("CI subject is empty: write the sub claim to allow, for example \"repo:OWNER/NAME:ref:refs/heads/main\"")
	case strings.ContainsFunc(subject, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }):
		return fmt.Errorf("CI subject %q contains whitespace or a control character, which no sub claim does", subject)
	case strings.Contains(subject, "${"):
		return fmt.Errorf("CI subject %q contains \"${\", which IAM reads as a policy variable", subject)
	case strings.HasPrefix(subject, "*") || strings.HasPrefix(subject, "?"):
		return fmt.Errorf("CI subject %q begins with a wildcard, so it matches the tokens of every repository the issuer "+
			"signs for, other owners' included: name your repository, for example %s", subject, subjectExample(platform))
	}
	switch {
	case platform == CIGitHub || mayMatchPrefix(subject, "repo:"):
		if !githubSubjectRE.MatchString(subject) {
			return fmt.Errorf("CI subject %q does not start with repo:OWNER/NAME: naming one repository without wildcards, so "+
				"it may match other repositories, other owners' included: write it as repo:OWNER/NAME:ref:refs/heads/BRANCH, "+
				"repo:OWNER/NAME:environment:ENVIRONMENT or repo:OWNER/NAME:*, one subject per repository", subject)
		}
	case platform == CIGitLab || mayMatchPrefix(subject, "project_path:"):
		if !gitlabSubjectRE.MatchString(subject) {
			return fmt.Errorf("CI subject %q does not start with project_path:GROUP/ naming the group without wildcards, so it "+
				"may match other groups' projects: write it as project_path:GROUP/PROJECT:ref_type:branch:ref:BRANCH", subject)
		}
	}
	return nil
}

// mayMatchPrefix reports whether the StringLike pattern can match a subject that begins with prefix: it begins
// with prefix, or the literal part before its first wildcard is the beginning of prefix ("repo*", "rep?:...").
func mayMatchPrefix(pattern, prefix string) bool {
	if strings.HasPrefix(pattern, prefix) {
		return true
	}
	i := strings.IndexAny(pattern, "*?")
	return i >= 0 && strings.HasPrefix(prefix, pattern[:i])
}

// subjectExample is the fix an error proposes for the platform.
func subjectExample(platform CIPlatform) string {
	switch platform {
	case CIGitHub:
		return "\"repo:OWNER/NAME:ref:refs/heads/main\""
	case CIGitLab:
		return "\"project_path:GROUP/PROJECT:ref_type:branch:ref:main\""
	}
	return "the literal beginning of your CI's sub claim"
}

// ValidateCIAudience checks the aud claim value a trust policy requires. It is compared with StringEquals, so wildcards would be
// literal characters that no token carries.
func ValidateCIAudience(audience string) error {
	switch {
	case strings.ContainsFunc(audience, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }):
		return fmt.Errorf("CI audience %q contains whitespace or a control character", audience)
	case strings.ContainsAny(audience, "*?"):
		return fmt.Errorf("CI audience %q contains * or ?, which StringEquals compares literally: give the exact aud claim, for example %q", audience, DefaultCIAudience)
	case strings.Contains(audience, "${"):
		return fmt.Errorf("CI audience %q contains \"${\", which IAM reads as a policy variable", audience)
	}
	return nil
}

// ParseCITrust recovers the OIDC provider ARN, audience and subjects from a role's trust policy, for
// import: the first Allow statement that grants sts:AssumeRoleWithWebIdentity to one Federated
// principal. The audience is its StringEquals ISSUER:aud value ("" when it has none); the subjects are
// its ISSUER:sub values under StringLike or StringEquals, sorted without duplicates. It returns an error
// when no statement has that shape or the audience is not a single value.
func ParseCITrust(doc string) (CITrustInput, error) {
	statements, err := parseStatements(doc)
	if err != nil {
		return CITrustInput{}, err
	}
	for _, st := range statements {
		actions, _ := stringValues(st.Action)
		isAssume := func(a string) bool { return strings.EqualFold(a, actionAssumeWebIdentity) }
		if st.Effect != "Allow" || !slices.ContainsFunc(actions, isAssume) || len(st.Principal) == 0 {
			continue
		}
		var principal map[string]json.RawMessage
		if err := json.Unmarshal(st.Principal, &principal); err != nil {
			continue
		}
		federated, err := stringValues(principal["Federated"])
		if err != nil || len(federated) != 1 {
			return CITrustInput{}, errors.New("the sts:AssumeRoleWithWebIdentity statement does not name exactly one Federated principal")
		}
		provider, err := ParseOIDCProviderARN(federated[0])
		if err != nil {
			return CITrustInput{}, err
		}
		out := CITrustInput{OIDCProviderARN: federated[0]}
		for op, keys := range st.Condition {
			for key, raw := range keys {
				values, err := stringValues(raw)
				if err != nil {
					return CITrustInput{}, fmt.Errorf("condition %s %s: %w", op, key, err)
				}
				switch {
				case strings.EqualFold(key, provider.Issuer+":aud") && op == "StringEquals":
					if len(values) != 1 {
						return CITrustInput{}, fmt.Errorf("condition StringEquals %s has %d values, want one audience", key, len(values))
					}
					out.Audience = values[0]
				case strings.EqualFold(key, provider.Issuer+":sub") && (op == "StringLike" || op == "StringEquals"):
					out.Subjects = append(out.Subjects, values...)
				}
			}
		}
		slices.Sort(out.Subjects)
		out.Subjects = slices.Compact(out.Subjects)
		return out, nil
	}
	return CITrustInput{}, errors.New("no statement allows sts:AssumeRoleWithWebIdentity for a Federated principal")
}
