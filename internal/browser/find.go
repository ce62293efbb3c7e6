package browser

import (
	"fmt"
	"os"
	"os/exec"
)

// BrowserEnv is the environment variable that names the Chromium binary (DESIGN §8).
const BrowserEnv = "TROUPE_BROWSER"

// browserNames are looked up on PATH, in this order, when BrowserEnv is not set.
var browserNames = []string{"chromium", "chromium-browser", "google-chrome"}

// FindBrowser returns the Chromium binary troupe would launch: bin when set (Options.Bin, the
// configuration's browser), else $TROUPE_BROWSER when set (either must be an executable file),
// else the first of chromium, chromium-browser, google-chrome on PATH. The error wraps
// ErrNoBrowser and says how to install one. The driver and `troupe doctor` share it.
func FindBrowser(bin string) (string, error) {
	source := "the configured browser"
	if bin == "" {
		bin = os.Getenv(BrowserEnv)
		source = BrowserEnv
	}
	if bin != "" {
		path, err := exec.LookPath(bin)
		if err != nil {
			return "", fmt.Errorf("%w: %s is %q, which is not an executable file (%v)", ErrNoBrowser, source, bin, err)
		}
		return path, nil
	}
	for _, name := range browserNames {
		if path, err := exec.LookPath(name); err == nil {
			return path, nil
		}
	}
	return "", fmt.Errorf("%w (looked for %v on PATH)", ErrNoBrowser, browserNames)
}
