package integration

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// server is a throwaway reference server from conformance/serve.mjs, shared by the tests of
// this package and stopped by TestMain.
type server struct {
	BaseURL string `json:"baseURL"`
	Token   string `json:"token"`

	cmd   *exec.Cmd
	stdin io.WriteCloser
}

var (
	serverOnce sync.Once
	shared     *server
	serverErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if shared != nil {
		shared.stop()
	}
	os.Exit(code)
}

// liveServer starts the server on first use.
func liveServer(t *testing.T) *server {
	t.Helper()
	serverOnce.Do(func() { shared, serverErr = startServer() })
	if serverErr != nil {
		t.Fatalf("starting the reference server: %v", serverErr)
	}
	return shared
}

// ownServer starts a server for this test alone, with extra settings ("NAME=VALUE", passed
// to serve.mjs as --env), and stops it when the test ends.
func ownServer(t *testing.T, env ...string) *server {
	t.Helper()
	s, err := startServer(env...)
	if err != nil {
		t.Fatalf("starting a reference server with %q: %v", env, err)
	}
	t.Cleanup(s.stop)
	return s
}

// repoRoot walks up from the working directory to the folder holding conformance/.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "conformance", "serve.mjs")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("conformance/serve.mjs not found above the working directory")
		}
		dir = parent
	}
}

func startServer(env ...string) (*server, error) {
	root, err := repoRoot()
	if err != nil {
		return nil, err
	}
	args := []string{"conformance/serve.mjs"}
	for _, setting := range env {
		args = append(args, "--env", setting)
	}
	cmd := exec.Command("node", args...)
	cmd.Dir = root
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	line := make(chan string, 1)
	go func() {
		scanner := bufio.NewScanner(stdout)
		if scanner.Scan() {
			line <- scanner.Text()
		}
		close(line)
		_, _ = io.Copy(io.Discard, stdout)
	}()
	s := &server{cmd: cmd, stdin: stdin}
	select {
	case text, ok := <-line:
		if !ok {
			s.stop()
			return nil, errors.New("serve.mjs exited before printing its address")
		}
		if err := json.Unmarshal([]byte(text), s); err != nil {
			s.stop()
			return nil, fmt.Errorf("serve.mjs printed %q: %w", text, err)
		}
		return s, nil
	case <-time.After(90 * time.Second):
		s.stop()
		return nil, errors.New("serve.mjs did not start within 90 s")
	}
}

// stop closes stdin, which makes serve.mjs stop the server and remove its data.
func (s *server) stop() {
	_ = s.stdin.Close()
	done := make(chan struct{})
	go func() {
		_ = s.cmd.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = s.cmd.Process.Kill()
	}
}
