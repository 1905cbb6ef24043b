package main

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

func distImage(t *testing.T) v1.Image {
	t.Helper()
	tag, err := name.NewTag("mailmon:latest")
	if err != nil {
		t.Fatal(err)
	}
	img, err := tarball.ImageFromPath(distFile(t, "mailmon_*_image.tar"), &tag)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// The image runs as a user that is not root, serves on 8080 with its
// database on the /data volume, says how to check its health, and holds
// what the Dockerfile's final stage says.
func TestImageConfig(t *testing.T) {
	img := distImage(t)
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	c := cf.Config
	if c.User != "10001:10001" || cf.OS != "linux" || cf.Architecture != "amd64" {
		t.Errorf("user %q, platform %s/%s", c.User, cf.OS, cf.Architecture)
	}
	if !slices.Equal(c.Entrypoint, []string{"/usr/bin/mailmon"}) || !slices.Equal(c.Cmd, []string{"serve", "--db", "/data/mailmon.db", "--listen", "0.0.0.0:8080"}) {
		t.Errorf("entry point %q, command %q", c.Entrypoint, c.Cmd)
	}
	if _, ok := c.ExposedPorts["8080/tcp"]; !ok || len(c.ExposedPorts) != 1 {
		t.Errorf("exposed ports %v, want 8080/tcp", c.ExposedPorts)
	}
	if _, ok := c.Volumes["/data"]; !ok || c.WorkingDir != "/data" {
		t.Errorf("volumes %v, working directory %q: want /data", c.Volumes, c.WorkingDir)
	}
	if c.Healthcheck == nil || len(c.Healthcheck.Test) < 2 || c.Healthcheck.Test[0] != "CMD" || c.Healthcheck.Test[1] != "/usr/bin/mailmon-check" {
		t.Errorf("health check %+v", c.Healthcheck)
	}
	if c.Labels["org.opencontainers.image.version"] != distVersion(t) {
		t.Errorf("labels %v, want the version %s", c.Labels, distVersion(t))
	}
	df, err := runConfig("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	df.Env = append([]string{"PATH=/usr/bin"}, df.Env...)
	df.Labels = c.Labels
	if !reflect.DeepEqual(df, c) {
		t.Errorf("the image's config differs from the Dockerfile's final stage:\n image %+v\n Dockerfile %+v", c, df)
	}
}

// extract writes the image's files into dir: the empty root of the run.
func extract(t *testing.T, img v1.Image, dir string) []string {
	t.Helper()
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	var names []string
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, filepath.Clean("/"+h.Name))
		names = append(names, strings.TrimSuffix(h.Name, "/"))
		switch h.Typeflag {
		case tar.TypeDir:
			err = os.MkdirAll(p, os.FileMode(h.Mode).Perm())
		case tar.TypeReg:
			var f *os.File
			if f, err = os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, os.FileMode(h.Mode).Perm()); err == nil {
				_, err = io.Copy(f, tr)
				f.Close()
			}
		default:
			t.Fatalf("%s: type %c, want files and directories only", h.Name, h.Typeflag)
		}
		if err == nil {
			err = os.Lchown(p, h.Uid, h.Gid)
		}
		if err == nil {
			err = os.Chmod(p, os.FileMode(h.Mode).Perm()|modeBits(h.Mode))
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(names)
	return names
}

func modeBits(m int64) os.FileMode {
	if m&0o1000 != 0 {
		return os.ModeSticky
	}
	return 0
}

// The image's files alone run mailmon: its command, as its user, in its
// working directory and environment, from a root holding nothing else,
// serves, and its health check passes. No Docker: the image's settings,
// applied as a runtime would, to a chroot in a network namespace.
func TestImageRunsFromItsOwnFiles(t *testing.T) {
	needRoot(t, "nsenter", "ip")
	img := distImage(t)
	root := t.TempDir()
	os.Chmod(root, 0o755)
	names := extract(t, img, root)
	want := []string{"data", "etc", "etc/group", "etc/nsswitch.conf", "etc/passwd", "etc/ssl", "etc/ssl/certs", "etc/ssl/certs/ca-certificates.crt", "tmp", "usr", "usr/bin", "usr/bin/mailmon", "usr/bin/mailmon-check"}
	if !slices.Equal(names, want) {
		t.Errorf("the image holds %q, want %q", names, want)
	}
	cf, _ := img.ConfigFile()
	c := cf.Config
	uid, gid, err := numericUser(c.User)
	if err != nil {
		t.Fatal(err)
	}
	argv := append(slices.Clone(c.Entrypoint), c.Cmd...)
	cmd := &exec.Cmd{Path: argv[0], Args: argv, Env: c.Env, Dir: c.WorkingDir,
		SysProcAttr: &syscall.SysProcAttr{Chroot: root, Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, Cloneflags: syscall.CLONE_NEWNET}}
	stdout, _ := cmd.StdoutPipe()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-done
		if t.Failed() {
			t.Logf("the daemon's stderr:\n%s", stderr.String())
		}
	})
	waitLine(t, stdout, "mailmon listening on ", 60*time.Second)
	if out, err := exec.Command("nsenter", fmt.Sprintf("--net=/proc/%d/ns/net", cmd.Process.Pid), "ip", "link", "set", "lo", "up").CombinedOutput(); err != nil {
		t.Fatalf("lo up: %v %s", err, out)
	}
	hc := c.Healthcheck.Test[1:]
	out, err := inNetns(t, cmd.Process.Pid, helper{Chroot: root, UID: uint32(uid), GID: uint32(gid), Dir: c.WorkingDir, Env: c.Env, Argv: hc})
	if err != nil || !strings.HasPrefix(out, "TCP OK") {
		t.Errorf("the health check %q: %v: %s", hc, err, out)
	}
	out, err = inNetns(t, cmd.Process.Pid, helper{GET: "http://127.0.0.1:8080/healthz"})
	if err != nil || !strings.Contains(out, `"version":"`+distVersion(t)+`"`) {
		t.Errorf("/healthz: %v: %s", err, out)
	}
	// What it wrote, it wrote as its user on the volume.
	for _, f := range []string{"data/mailmon.db", "data/storage.key"} {
		var st syscall.Stat_t
		if err := syscall.Stat(filepath.Join(root, f), &st); err != nil || st.Uid != uint32(uid) {
			t.Errorf("%s: %v, owner %d", f, err, st.Uid)
		}
	}
}
