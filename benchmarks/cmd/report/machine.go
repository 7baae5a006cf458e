package main

import (
	"bufio"
	"os"
	"os/exec"
	"runtime"
	"strings"
)

// machine describes where the suite ran.
type machine struct {
	cpu, os, kernel, goVersion, load string
	cores                            int
	peers                            []string // "path version"
}

// peerModules are the libraries measured against, as go.mod requires them.
var peerModules = []string{
	"github.com/stripe/stripe-go/v82",
	"github.com/standard-webhooks/standard-webhooks/libraries",
	"github.com/svix/svix-webhooks",
	"github.com/google/go-github/v66",
	"gonum.org/v1/plot",
}

func describeMachine() machine {
	m := machine{cpu: "unknown", os: runtime.GOOS + "/" + runtime.GOARCH, cores: runtime.NumCPU()}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		s := bufio.NewScanner(f)
		for s.Scan() {
			if k, v, ok := strings.Cut(s.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				m.cpu = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	if data, err := os.ReadFile("/etc/os-release"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if v, ok := strings.CutPrefix(line, "PRETTY_NAME="); ok {
				m.os = strings.Trim(v, `"`) + " (" + runtime.GOOS + "/" + runtime.GOARCH + ")"
			}
		}
	}
	if data, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.kernel = "Linux " + strings.TrimSpace(string(data))
	}
	if data, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(data)); len(f) >= 3 {
			m.load = strings.Join(f[:3], " ")
		}
	}
	if out, err := exec.Command("go", "version").Output(); err == nil {
		m.goVersion = strings.TrimSpace(string(out))
	}
	args := append([]string{"list", "-m"}, peerModules...)
	if out, err := exec.Command("go", args...).Output(); err == nil {
		m.peers = strings.Split(strings.TrimSpace(string(out)), "\n")
	}
	return m
}
