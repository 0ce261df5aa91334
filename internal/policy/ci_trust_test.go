package policy

import (
	"slices"
	"testing"
)

const (
	githubProviderARN = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
	gitlabProviderARN = "arn:aws:iam::123456789012:oidc-provider/gitlab.com"
)

func TestCITrust(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		in     CITrustInput
		golden string
		// The explicit expectations keep -update from blessing a wrong policy unnoticed.
		wantKeyPrefix string
		wantAudience  string
		wantSubjects  []string
	}{
		{
			name:          "github main branch",
			in:            CITrustInput{OIDCProviderARN: githubProviderARN, Subjects: []string{"repo:octo-org/site:ref:refs/heads/main"}},
			golden:        "ci_trust_github.json",
			wantKeyPrefix: "token.actions.githubusercontent.com",
			wantAudience:  "sts.amazonaws.com",
			wantSubjects:  []string{"repo:octo-org/site:ref:refs/heads/main"},
		},
		{
			name: "github subjects sorted and deduplicated",
			in: CITrustInput{OIDCProviderARN: githubProviderARN, Subjects: []string{
				"repo:octo-org/site:environment:production", "repo:octo-org/media:*", "repo:octo-org/site:environment:production",
			}},
			golden:        "ci_trust_github_subjects.json",
			wantKeyPrefix: "token.actions.githubusercontent.com",
			wantAudience:  "sts.amazonaws.com",
			wantSubjects:  []string{"repo:octo-org/media:*", "repo:octo-org/site:environment:production"},
		},
		{
			name: "gitlab with its own audience",
			in: CITrustInput{OIDCProviderARN: gitlabProviderARN, Audience: "https://gitlab.com",
				Subjects: []string{"project_path:media-team/site:ref_type:branch:ref:main"}},
			golden:        "ci_trust_gitlab.json",
			wantKeyPrefix: "gitlab.com",
			wantAudience:  "https://gitlab.com",
			wantSubjects:  []string{"project_path:media-team/site:ref_type:branch:ref:main"},
		},
		{
			name: "aws-cn partition and an issuer with a path",
			in: CITrustInput{OIDCProviderARN: "arn:aws-cn:iam::210987654321:oidc-provider/ci.example.cn/oidc",
				Audience: "media-uploads", Subjects: []string{"org/42/project/7/*"}},
			golden:        "ci_trust_aws_cn_path.json",
			wantKeyPrefix: "ci.example.cn/oidc",
			wantAudience:  "media-uploads",
			wantSubjects:  []string{"org/42/project/7/*"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			doc, err := CITrust(tt.in)
			if err != nil {
				t.Fatalf("CITrust() error = %v", err)
			}
			js := assertGolden(t, tt.golden, doc)

			if doc.Version != "2012-10-17" || len(doc.Statement) != 1 {
				t.Fatalf("document = %+v, want Version 2012-10-17 and one statement", doc)
			}
			st := doc.Statement[0]
			if st.Sid != "AssumeUploadRoleFromCI" || st.Effect != "Allow" || st.Action != "sts:AssumeRoleWithWebIdentity" || st.Resource != nil {
				t.Errorf("statement = %+v", st)
			}
			if p, ok := st.Principal.(map[string]any); !ok || len(p) != 1 || p["Federated"] != tt.in.OIDCProviderARN {
				t.Errorf("principal = %#v, want Federated %s", st.Principal, tt.in.OIDCProviderARN)
			}
			if len(st.Condition) != 2 || len(st.Condition["StringEquals"]) != 1 || len(st.Condition["StringLike"]) != 1 {
				t.Fatalf("conditions = %#v, want one StringEquals and one StringLike key", st.Condition)
			}
			if got := st.Condition["StringEquals"][tt.wantKeyPrefix+":aud"]; got != tt.wantAudience {
				t.Errorf("audience condition = %#v, want %s:aud = %q", st.Condition["StringEquals"], tt.wantKeyPrefix, tt.wantAudience)
			}
			if got, ok := st.Condition["StringLike"][tt.wantKeyPrefix+":sub"].([]string); !ok || !slices.Equal(got, tt.wantSubjects) {
				t.Errorf("subject condition = %#v, want %s:sub = %q", st.Condition["StringLike"], tt.wantKeyPrefix, tt.wantSubjects)
			}

			// What the parser recovers for import builds the same document again.
			parsed, err := ParseCITrust(js)
			if err != nil {
				t.Fatalf("ParseCITrust() error = %v", err)
			}
			if parsed.OIDCProviderARN != tt.in.OIDCProviderARN || parsed.Audience != tt.wantAudience || !slices.Equal(parsed.Subjects, tt.wantSubjects) {
				t.Errorf("ParseCITrust() = %+v", parsed)
			}
			again, err := CITrust(parsed)
			if err != nil {
				t.Fatal(err)
			}
			if js2, _ := again.JSON(); js2 != js {
				t.Errorf("rebuilt from the parsed input:\n%s\nwant\n%s", js2, js)
			}
		})
	}
}

func TestCITrustErrors(t *testing.T) {
	t.Parallel()
	gh := func(subjects ...string) CITrustInput {
		return CITrustInput{OIDCProviderARN: githubProviderARN, Subjects: subjects}
	}
	gl := func(subjects ...string) CITrustInput {
		return CITrustInput{OIDCProviderARN: gitlabProviderARN, Subjects: subjects}
	}
	other := func(subjects ...string) CITrustInput {
		return CITrustInput{OIDCProviderARN: "arn:aws:iam::123456789012:oidc-provider/ci.example.com", Subjects: subjects}
	}
	const ghFix = "repo:OWNER/NAME:ref:refs/heads/BRANCH"
	const glFix = "project_path:GROUP/PROJECT:ref_type:branch:ref:BRANCH"
	tests := []struct {
		name string
		in   CITrustInput
		want []string // fragments the error must contain
	}{
		{"star", gh("*"), []string{`"*"`, "begins with a wildcard", "other owners'", "repo:OWNER/NAME:ref:refs/heads/main"}},
		{"question mark first", gh("?epo:octo-org/site:*"), []string{"begins with a wildcard"}},
		{"repo star", gh("repo:*"), []string{`"repo:*"`, "other owners'", ghFix}},
		{"repo star owner", gh("repo:*/site:ref:refs/heads/main"), []string{`"repo:*/site:ref:refs/heads/main"`, ghFix}},
		{"owner prefix wildcard", gh("repo:octo*"), []string{`"repo:octo*"`, ghFix}},
		{"owner with wildcard after it", gh("repo:octo-org*/site:*"), []string{ghFix}},
		{"whole owner", gh("repo:octo-org/*"), []string{`"repo:octo-org/*"`, "one subject per repository"}},
		{"repository name wildcard", gh("repo:octo-org/site*:ref:refs/heads/main"), []string{ghFix}},
		{"github without repo", gh("ref:refs/heads/main"), []string{`"ref:refs/heads/main"`, "repo:OWNER/NAME:"}},
		{"github without context", gh("repo:octo-org/site"), []string{`"repo:octo-org/site"`, ghFix}},
		{"repo shape on another issuer", other("repo:*"), []string{`"repo:*"`, ghFix}},
		{"gitlab star", gl("*"), []string{"begins with a wildcard", "project_path:GROUP/PROJECT:ref_type:branch:ref:main"}},
		{"gitlab project_path star", gl("project_path:*"), []string{`"project_path:*"`, glFix}},
		{"gitlab group wildcard", gl("project_path:media*/site:*"), []string{glFix}},
		{"gitlab without project_path", gl("ref_type:branch:ref:main"), []string{"project_path:GROUP/"}},
		{"gitlab shape on another issuer", other("project_path:*"), []string{glFix}},
		// A wildcard before the colon still matches GitHub's and GitLab's subjects, so it is held to their rule.
		{"repo shape cut short on another issuer", other("repo*"), []string{`"repo*"`, ghFix}},
		{"repo shape with a question mark on another issuer", other("rep?:octo-org/site:*"), []string{ghFix}},
		{"gitlab shape cut short on another issuer", other("project_*"), []string{`"project_*"`, glFix}},
		{"gitlab shape cut shorter on another issuer", other("p*"), []string{`"p*"`, glFix}},
		{"other issuer star", other("*"), []string{"begins with a wildcard", "literal beginning"}},
		{"empty subject", gh(""), []string{"CI subject is empty"}},
		{"no subjects", gh(), []string{"no CI subjects given"}},
		{"policy variable", gh("repo:octo-org/site:${aws:username}"), []string{"policy variable"}},
		{"whitespace", gh("repo:octo-org/site:ref:refs/heads/main "), []string{"whitespace"}},
		{"every bad subject is named", gh("repo:octo-org/site:*", "*", "repo:*"), []string{`"*"`, `"repo:*"`}},
		{"not an ARN", CITrustInput{OIDCProviderARN: "token.actions.githubusercontent.com", Subjects: []string{"repo:o/n:*"}},
			[]string{`"token.actions.githubusercontent.com"`, "arn:aws:iam::123456789012:oidc-provider/", "aws_iam_openid_connect_provider"}},
		{"a role ARN", CITrustInput{OIDCProviderARN: "arn:aws:iam::123456789012:role/ci", Subjects: []string{"repo:o/n:*"}}, []string{"not an IAM OIDC provider ARN"}},
		{"no account", CITrustInput{OIDCProviderARN: "arn:aws:iam:::oidc-provider/gitlab.com", Subjects: []string{"project_path:g/p:*"}}, []string{"not an IAM OIDC provider ARN"}},
		{"bad partition", CITrustInput{OIDCProviderARN: "arn:azure:iam::123456789012:oidc-provider/gitlab.com", Subjects: []string{"project_path:g/p:*"}}, []string{`"azure"`, "partition"}},
		{"wildcard audience", CITrustInput{OIDCProviderARN: githubProviderARN, Audience: "sts.*", Subjects: []string{"repo:o/n:*"}}, []string{`"sts.*"`, "StringEquals"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			doc, err := CITrust(tt.in)
			wantErrContaining(t, err, tt.want...)
			if len(doc.Statement) != 0 {
				t.Errorf("CITrust() returned a document with an error: %+v", doc)
			}
		})
	}
}

func TestCITrustAcceptsNarrowSubjects(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		arn, subject string
	}{
		{githubProviderARN, "repo:octo-org/site:ref:refs/heads/main"},
		{githubProviderARN, "repo:octo-org/site:ref:refs/tags/v*"},
		{githubProviderARN, "repo:Octo_Org/site.io:environment:production"},
		{githubProviderARN, "repo:octo-org/site:pull_request"},
		{githubProviderARN, "repo:octo-org/site:*"},
		{"arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com/octo-enterprise", "repo:octo-org/site:*"},
		{"arn:aws:iam::123456789012:oidc-provider/github.example.com/_services/token", "repo:octo-org/site:*"},
		{gitlabProviderARN, "project_path:media-team/site:ref_type:branch:ref:main"},
		{gitlabProviderARN, "project_path:media-team/*"},
		{"arn:aws:iam::123456789012:oidc-provider/gitlab.example.org", "project_path:media-team/sub/site:*"},
		{"arn:aws:iam::123456789012:oidc-provider/ci.example.com", "org/42/project/*"},
	} {
		if _, err := CITrust(CITrustInput{OIDCProviderARN: tt.arn, Subjects: []string{tt.subject}}); err != nil {
			t.Errorf("CITrust(%s, %q) error = %v", tt.arn, tt.subject, err)
		}
	}
}

func TestOIDCProviderPlatform(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		issuer string
		want   CIPlatform
	}{
		{"token.actions.githubusercontent.com", CIGitHub},
		{"token.actions.githubusercontent.com/octo-enterprise", CIGitHub},
		{"github.example.com/_services/token", CIGitHub},
		{"gitlab.com", CIGitLab},
		{"gitlab.example.org", CIGitLab},
		{"GitLab.Example.org", CIGitLab},
		{"code.example.org", CIOther},
		{"oidc.circleci.com/org/42", CIOther},
		{"notgitlab.com", CIOther},
	} {
		if got := (OIDCProvider{Issuer: tt.issuer}).Platform(); got != tt.want {
			t.Errorf("Platform(%q) = %v, want %v", tt.issuer, got, tt.want)
		}
	}
}

func TestParseCITrustHandWritten(t *testing.T) {
	t.Parallel()
	// A policy as AWS hands it back: compact, a one-element Federated list, sub under StringEquals.
	doc := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Federated":["` + gitlabProviderARN + `"]},` +
		`"Action":["sts:AssumeRoleWithWebIdentity"],"Condition":{"StringEquals":{"gitlab.com:aud":["https://gitlab.com"],` +
		`"gitlab.com:sub":["project_path:g/p:ref_type:branch:ref:main"]}}}}`
	got, err := ParseCITrust(doc)
	if err != nil {
		t.Fatal(err)
	}
	if got.OIDCProviderARN != gitlabProviderARN || got.Audience != "https://gitlab.com" || !slices.Equal(got.Subjects, []string{"project_path:g/p:ref_type:branch:ref:main"}) {
		t.Errorf("ParseCITrust() = %+v", got)
	}
	for _, bad := range []string{
		`{"Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`,
		`{"Statement":[{"Effect":"Allow","Principal":{"Federated":["a","b"]},"Action":"sts:AssumeRoleWithWebIdentity"}]}`,
		`not json`,
	} {
		if _, err := ParseCITrust(bad); err == nil {
			t.Errorf("ParseCITrust(%s) accepted it", bad)
		}
	}
}

// TestCITrustEvaluation proves what the trust policy's conditions let in, with the evaluator of
// evaluate_test.go: the right repository and branch, and nobody else's token.
func TestCITrustEvaluation(t *testing.T) {
	t.Parallel()
	build := func(t *testing.T, in CITrustInput) string {
		t.Helper()
		doc, err := CITrust(in)
		if err != nil {
			t.Fatal(err)
		}
		js, err := doc.JSON()
		if err != nil {
			t.Fatal(err)
		}
		return js
	}
	github := build(t, CITrustInput{OIDCProviderARN: githubProviderARN, Subjects: []string{"repo:octo-org/site:ref:refs/heads/main"}})
	gitlab := build(t, CITrustInput{OIDCProviderARN: gitlabProviderARN, Audience: "https://gitlab.com",
		Subjects: []string{"project_path:media-team/site:ref_type:branch:ref:main"}})

	ghToken := func(sub, aud string) webIdentityRequest {
		return webIdentityRequest{provider: githubProviderARN, claims: map[string]string{
			"token.actions.githubusercontent.com:sub": sub, "token.actions.githubusercontent.com:aud": aud,
		}}
	}
	glToken := func(sub, aud string) webIdentityRequest {
		return webIdentityRequest{provider: gitlabProviderARN, claims: map[string]string{"gitlab.com:sub": sub, "gitlab.com:aud": aud}}
	}
	tests := []struct {
		name   string
		policy string
		req    webIdentityRequest
		want   bool
	}{
		{"github: the repository's main branch", github, ghToken("repo:octo-org/site:ref:refs/heads/main", "sts.amazonaws.com"), true},
		{"github: another branch", github, ghToken("repo:octo-org/site:ref:refs/heads/feature", "sts.amazonaws.com"), false},
		{"github: another owner's repository of the same name", github, ghToken("repo:evil-org/site:ref:refs/heads/main", "sts.amazonaws.com"), false},
		{"github: another repository of the same owner", github, ghToken("repo:octo-org/blog:ref:refs/heads/main", "sts.amazonaws.com"), false},
		{"github: a look-alike repository name", github, ghToken("repo:octo-org/site-fork:ref:refs/heads/main", "sts.amazonaws.com"), false},
		{"github: a pull request (from a fork) to the repository", github, ghToken("repo:octo-org/site:pull_request", "sts.amazonaws.com"), false},
		{"github: the fork's own main branch", github, ghToken("repo:forker/site:ref:refs/heads/main", "sts.amazonaws.com"), false},
		{"github: wrong audience", github, ghToken("repo:octo-org/site:ref:refs/heads/main", "https://github.com/octo-org"), false},
		{"github: a token of another provider", github, webIdentityRequest{provider: gitlabProviderARN, claims: map[string]string{
			"gitlab.com:sub": "repo:octo-org/site:ref:refs/heads/main", "gitlab.com:aud": "sts.amazonaws.com",
		}}, false},
		{"gitlab: the project's main branch", gitlab, glToken("project_path:media-team/site:ref_type:branch:ref:main", "https://gitlab.com"), true},
		{"gitlab: another group's project", gitlab, glToken("project_path:evil-team/site:ref_type:branch:ref:main", "https://gitlab.com"), false},
		{"gitlab: another project of the group", gitlab, glToken("project_path:media-team/blog:ref_type:branch:ref:main", "https://gitlab.com"), false},
		{"gitlab: a merge request branch", gitlab, glToken("project_path:media-team/site:ref_type:branch:ref:feature", "https://gitlab.com"), false},
		{"gitlab: wrong audience", gitlab, glToken("project_path:media-team/site:ref_type:branch:ref:main", "sts.amazonaws.com"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := evaluateTrust(t, tt.policy, tt.req); got != tt.want {
				t.Errorf("allowed = %v, want %v", got, tt.want)
			}
		})
	}

	// What the validation refuses is what would let the other owner in: prove it for "repo:*".
	wide := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"` + githubProviderARN + `"},` +
		`"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"token.actions.githubusercontent.com:aud":"sts.amazonaws.com"},` +
		`"StringLike":{"token.actions.githubusercontent.com:sub":"repo:*"}}}]}`
	if !evaluateTrust(t, wide, ghToken("repo:evil-org/site:ref:refs/heads/main", "sts.amazonaws.com")) {
		t.Error("the evaluator does not let another owner in through repo:*, so it proves nothing about the refused subjects")
	}
}
