package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// runConfig reads the run settings of the Dockerfile's final stage: USER,
// WORKDIR, ENV, VOLUME, EXPOSE, ENTRYPOINT, CMD and HEALTHCHECK, the
// list-taking ones in their JSON form. The image written without Docker
// takes them from here, so that it and "docker build" agree.
func runConfig(path string) (v1.Config, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return v1.Config{}, err
	}
	type line struct {
		n          int
		word, rest string
	}
	var stage []line // the final stage's, after its FROM
	found := false
	pending, start := "", 0 // a line continued with a backslash, and where it began
	for n, l := range strings.Split(string(raw), "\n") {
		if pending == "" {
			start = n + 1
		}
		if l = strings.TrimSpace(l); strings.HasSuffix(l, "\\") {
			pending += strings.TrimSuffix(l, "\\") + " "
			continue
		}
		l, pending = strings.TrimSpace(pending+l), ""
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		word, rest, _ := strings.Cut(l, " ")
		if word = strings.ToUpper(word); word == "FROM" {
			stage, found = nil, true
			continue
		}
		stage = append(stage, line{start, word, strings.TrimSpace(rest)})
	}
	if !found {
		return v1.Config{}, fmt.Errorf("%s: no FROM", path)
	}
	var c v1.Config
	for _, l := range stage {
		if err := instruction(&c, l.word, l.rest); err != nil {
			return v1.Config{}, fmt.Errorf("%s:%d: %s: %w", path, l.n, l.word, err)
		}
	}
	return c, nil
}

// instruction sets what one instruction of the final stage says.
func instruction(c *v1.Config, word, rest string) error {
	switch word {
	case "USER":
		c.User = rest
	case "WORKDIR":
		c.WorkingDir = rest
	case "ENV":
		k, v, ok := strings.Cut(rest, "=")
		if !ok || strings.ContainsAny(v, " \"'$") {
			return fmt.Errorf("%q: give one KEY=VALUE without quotes or spaces", rest)
		}
		c.Env = append(c.Env, k+"="+v)
	case "VOLUME":
		var vs []string
		if err := json.Unmarshal([]byte(rest), &vs); err != nil {
			return fmt.Errorf("%q: not a JSON list", rest)
		}
		c.Volumes = map[string]struct{}{}
		for _, v := range vs {
			c.Volumes[v] = struct{}{}
		}
	case "EXPOSE":
		c.ExposedPorts = map[string]struct{}{}
		for _, p := range strings.Fields(rest) {
			if !strings.Contains(p, "/") {
				p += "/tcp"
			}
			c.ExposedPorts[p] = struct{}{}
		}
	case "ENTRYPOINT", "CMD":
		var args []string
		if err := json.Unmarshal([]byte(rest), &args); err != nil {
			return fmt.Errorf("%q: not a JSON list", rest)
		}
		if word == "CMD" {
			c.Cmd = args
		} else {
			c.Entrypoint = args
		}
	case "HEALTHCHECK":
		h, err := healthcheck(rest)
		if err != nil {
			return err
		}
		c.Healthcheck = h
	case "COPY", "LABEL", "ARG":
		// files come from the build; labels are set by writeImage
	default:
		return fmt.Errorf("not read by the image writer (packaging/dockerfile.go)")
	}
	return nil
}

// healthcheck reads "[--interval=D] [--timeout=D] [--start-period=D]
// [--retries=N] CMD [JSON list]".
func healthcheck(s string) (*v1.HealthConfig, error) {
	h := &v1.HealthConfig{}
	for strings.HasPrefix(s, "--") {
		opt, rest, _ := strings.Cut(s, " ")
		s = strings.TrimSpace(rest)
		k, v, _ := strings.Cut(strings.TrimPrefix(opt, "--"), "=")
		var err error
		switch k {
		case "interval":
			h.Interval, err = time.ParseDuration(v)
		case "timeout":
			h.Timeout, err = time.ParseDuration(v)
		case "start-period":
			h.StartPeriod, err = time.ParseDuration(v)
		case "retries":
			h.Retries, err = strconv.Atoi(v)
		default:
			err = fmt.Errorf("unknown option")
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", opt, err)
		}
	}
	cmd, ok := strings.CutPrefix(s, "CMD ")
	var args []string
	if !ok || json.Unmarshal([]byte(cmd), &args) != nil || len(args) == 0 {
		return nil, fmt.Errorf("%q: want CMD [\"program\", …]", s)
	}
	h.Test = append([]string{"CMD"}, args...)
	return h, nil
}
