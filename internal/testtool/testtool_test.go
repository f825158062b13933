package testtool

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestHelperNeedsAMissingProgram is run by TestNeed in a child process.
func TestHelperNeedsAMissingProgram(t *testing.T) {
	if os.Getenv("TESTTOOL_CHILD") != "1" {
		t.Skip("run by TestNeed in a child process")
	}
	Need(t, "sfmtls-no-such-program")
	t.Log("reached past Need")
}

// Without the program a developer's run skips with the package to install;
// CI's run fails.
func TestNeed(t *testing.T) {
	for _, c := range []struct {
		ci, want string
		fails    bool
	}{
		{"", "needs sfmtls-no-such-program (Debian: apt-get install sfmtls-no-such-program)", false},
		{"true", "sfmtls-no-such-program is not installed, and CI must run every test", true},
	} {
		cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run", "^TestHelperNeedsAMissingProgram$", "-test.v")
		cmd.Env = append(os.Environ(), "TESTTOOL_CHILD=1", "CI="+c.ci)
		out, err := cmd.CombinedOutput()
		if (err != nil) != c.fails {
			t.Errorf("CI=%q: exit error %v, want failure %t\n%s", c.ci, err, c.fails, out)
		}
		if !strings.Contains(string(out), c.want) || strings.Contains(string(out), "reached past Need") {
			t.Errorf("CI=%q: output lacks %q or went past Need:\n%s", c.ci, c.want, out)
		}
	}
	if got := Need(t, "go"); got == "" {
		t.Error("Need found no go on the PATH")
	}
}
