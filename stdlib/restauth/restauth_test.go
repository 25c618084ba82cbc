package restauth

import (
	"strings"
	"testing"
)

func TestNeeded(t *testing.T) {
	for _, c := range []struct{ method, path, want string }{
		{"GET", "/connectors", RoleRead},
		{"HEAD", "/metrics", RoleRead},
		{"GET", "/subjects/orders-value/versions", RoleRead},
		{"PUT", "/connectors/source.kafka.m/pause", RoleOperate},
		{"PUT", "/connectors/source.kafka.m/resume", RoleOperate},
		{"PUT", "/connectors/source.kafka.m/stop", RoleOperate},
		{"POST", "/connectors/source.kafka.m/restart", RoleOperate},
		{"POST", "/connectors/source.kafka.m/tasks/0/restart", RoleOperate},
		{"PATCH", "/connectors/source.kafka.m/offsets", RoleOperate},
		{"DELETE", "/connectors/source.kafka.m/offsets", RoleOperate},
		{"PUT", "/connectors/source.kafka.m/config", RoleAdmin},
		{"DELETE", "/connectors/source.kafka.m", RoleAdmin},
		{"PUT", "/admin/loggers/root", RoleAdmin},
		{"POST", "/subjects/orders-value/versions", RoleAdmin},
		{"POST", "/connectors/source.kafka.m/tasks/0/restart/extra", RoleAdmin},
	} {
		if got := Needed(c.method, c.path); got != c.want {
			t.Errorf("Needed(%s %s) = %s; want %s", c.method, c.path, got, c.want)
		}
	}
	if !allows(RoleAdmin, RoleOperate) || !allows(RoleOperate, RoleRead) || allows(RoleRead, RoleOperate) || allows(RoleOperate, RoleAdmin) {
		t.Error("roles do not nest read < operate < admin")
	}
}

func TestParseTokens(t *testing.T) {
	h := strings.Repeat("ab", 32)
	toks, err := parseTokens([]byte("# comment\n\nread a " + h + " # trailing\nadmin b sha256:" + h + "\n"))
	if err != nil || len(toks) != 2 || toks[0].name != "a" || toks[1].role != RoleAdmin {
		t.Fatalf("parseTokens = %+v, %v", toks, err)
	}
	for in, want := range map[string]string{
		"read a":                        "line 1: want ROLE NAME SHA256",
		"owner a " + h:                  `unknown role "owner"`,
		"read a " + h + "\nread a " + h: "line 2: the name a is used twice",
		"read a 1234":                   "the hash of a is not 64 hex digits",
	} {
		if _, err := parseTokens([]byte(in)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("parseTokens(%q) = %v; want %q", in, err, want)
		}
	}
}

// FuzzParseTokens: any file content gives tokens or an error, never a
// panic, and an error never quotes a hash.
func FuzzParseTokens(f *testing.F) {
	f.Add([]byte("read a " + strings.Repeat("0", 64) + "\n"))
	f.Add([]byte("admin x sha256:zz\n# c\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		toks, err := parseTokens(b)
		if err == nil {
			for _, tk := range toks {
				if !allows(tk.role, RoleRead) {
					t.Fatalf("a token with role %q", tk.role)
				}
			}
		}
	})
}
