package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// sysroot is a throwaway copy of this machine for installing packages
// into: /etc, /usr and /var are overlays of the machine's own (what dpkg
// and the maintainer scripts write lands in the test's directory, never
// in the machine's), with a private /tmp and /run, and share/ of the
// test's directory mounted read-only at /share. Each command gets a mount
// namespace of its own (unshare), so nothing it mounts outlives it, and,
// when asked, a network namespace of its own, where the daemon can take
// its default port 127.0.0.1:8080 without meeting anything else.
type sysroot struct {
	dir   string // root/, upper/, work/, share/
	Share string // files for the commands, at /share inside
}

func newSysroot(t *testing.T, tools ...string) *sysroot {
	t.Helper()
	needRoot(t, append([]string{"unshare", "chroot", "dpkg", "ip", "nsenter", "setpriv", "systemd-analyze"}, tools...)...)
	r := &sysroot{dir: t.TempDir()}
	r.Share = filepath.Join(r.dir, "share")
	for _, d := range []string{"root/etc", "root/usr", "root/var", "root/proc", "root/dev", "root/tmp", "root/run", "root/share", "root/root",
		"upper/etc", "upper/usr", "upper/var", "work/etc", "work/usr", "work/var", "share"} {
		if err := os.MkdirAll(filepath.Join(r.dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// The machine's /bin, /lib … as they are: links into /usr (merged /usr).
	for _, l := range []string{"bin", "sbin", "lib", "lib32", "lib64", "libx32"} {
		if dst, err := os.Readlink("/" + l); err == nil {
			if err := os.Symlink(dst, filepath.Join(r.dir, "root", l)); err != nil {
				t.Fatal(err)
			}
		}
	}
	// man-db's trigger would re-index every page on each install: seconds.
	os.MkdirAll(filepath.Join(r.dir, "upper/var/lib/man-db"), 0o755)
	if _, err := os.Stat("/var/lib/man-db/auto-update"); err == nil {
		// an overlay whiteout: a character device 0/0 hides the lower file
		if err := exec.Command("mknod", filepath.Join(r.dir, "upper/var/lib/man-db/auto-update"), "c", "0", "0").Run(); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

// setup mounts the root and runs the command in it: $1 the test's
// directory, then the command.
const setup = `set -e
D=$1; shift
R=$D/root
for d in etc usr var; do
	mount -t overlay overlay -o "lowerdir=/$d,upperdir=$D/upper/$d,workdir=$D/work/$d" "$R/$d"
done
mount -t proc proc "$R/proc"
mount --rbind /dev "$R/dev"
mount -t tmpfs -o mode=1777 tmpfs "$R/tmp"
mount -t tmpfs -o mode=755 tmpfs "$R/run"
mount --bind "$D/share" "$R/share"
mount -o remount,bind,ro "$R/share"
if [ -n "$NETNS" ]; then ip link set lo up; fi
exec chroot "$R" "$@"
`

// cmd is args run inside the root; netns gives it a network namespace of
// its own.
func (r *sysroot) cmd(ctx context.Context, netns bool, args ...string) *exec.Cmd {
	ua := []string{"--mount", "--propagation", "private"}
	env := []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8", "DEBIAN_FRONTEND=noninteractive"}
	if netns {
		ua = append(ua, "--net")
		env = append(env, "NETNS=1")
	}
	ua = append(ua, "--", "sh", "-c", setup, "sh", r.dir)
	cmd := exec.CommandContext(ctx, "unshare", append(ua, args...)...)
	cmd.Env = env
	return cmd
}

// run runs args in the root and returns their output; a failure fails the
// test, with the output.
func (r *sysroot) run(t *testing.T, args ...string) string {
	t.Helper()
	out, err := r.try(t, args...)
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// try runs args in the root: their output and error.
func (r *sysroot) try(t *testing.T, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := r.cmd(ctx, false, args...).CombinedOutput()
	return string(out), err
}

// sh runs a shell script in the root.
func (r *sysroot) sh(t *testing.T, script string) string {
	t.Helper()
	return r.run(t, "sh", "-ec", script)
}

// share copies a file into share/, for the commands to read at /share.
func (r *sysroot) share(t *testing.T, src, name string) string {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(r.Share, name), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return "/share/" + name
}
