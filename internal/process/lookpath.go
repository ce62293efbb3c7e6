package process

import (
	"errors"
	"fmt"
	"os/exec"
	"strings"
)

// LookPath says where Start would find command: a bare name is looked up on the server's PATH,
// as exec.Command does at Start (an agent's own env does not change where its program is
// found); an absolute path must be an executable file. A relative path with a slash is resolved
// against the agent's workspace at Start, so it is taken as it is. The error wraps
// exec.ErrNotFound and names the PATH searched.
func LookPath(command string) (string, error) {
	if strings.ContainsRune(command, '/') && !strings.HasPrefix(command, "/") {
		return command, nil
	}
	p, err := exec.LookPath(command)
	if err == nil {
		return p, nil
	}
	if !errors.Is(err, exec.ErrNotFound) {
		err = fmt.Errorf("%w: %v", exec.ErrNotFound, err)
	}
	return "", err
}

// LookPath implements Driver with the package function LookPath.
func (realDriver) LookPath(command string) (string, error) { return LookPath(command) }

// LookPath implements Driver: a command whose FakeBehavior.StartErr wraps exec.ErrNotFound is
// not found; any other is found at /fake/bin/<command>.
func (f *Fake) LookPath(command string) (string, error) {
	f.mu.Lock()
	b := f.behaviors[command]
	f.mu.Unlock()
	if b.StartErr != nil && errors.Is(b.StartErr, exec.ErrNotFound) {
		return "", fmt.Errorf("exec: %q: %w", command, b.StartErr)
	}
	return "/fake/bin/" + command, nil
}
