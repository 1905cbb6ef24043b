package main

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// caBundle is where Debian's ca-certificates keeps the bundle Go reads.
const caBundle = "/etc/ssl/certs/ca-certificates.crt"

// writeImage writes mailmon_VERSION_image.tar, an image of one layer
// holding the binary, the build machine's CA certificates, a passwd and
// group naming the image's user, and its home /data; with the run
// settings of the Dockerfile's final stage. The archive is what docker
// load and podman load take, tagged mailmon:VERSION and mailmon:latest.
func writeImage(b *build, dockerfile string) (string, error) {
	img, err := image(b, dockerfile)
	if err != nil {
		return "", err
	}
	tag := strings.NewReplacer("+", "-").Replace(b.Version) // a tag has no "+"
	refs := map[name.Reference]v1.Image{}
	for _, t := range []string{tag, "latest"} {
		ref, err := name.NewTag("mailmon:" + t)
		if err != nil {
			return "", err
		}
		refs[ref] = img
	}
	path := filepath.Join(b.Out, "mailmon_"+tag+"_image.tar")
	return path, tarball.MultiRefWriteToFile(path, refs)
}

func image(b *build, dockerfile string) (v1.Image, error) {
	rc, err := runConfig(dockerfile)
	if err != nil {
		return nil, err
	}
	uid, gid, err := numericUser(rc.User)
	if err != nil {
		return nil, err
	}
	layerTar, err := rootfs(b, uid, gid, rc.WorkingDir)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, err
	}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	if img, err = mutate.AppendLayers(img, layer); err != nil {
		return nil, err
	}
	rc.Env = append([]string{"PATH=/usr/bin"}, rc.Env...)
	rc.Labels = map[string]string{
		"org.opencontainers.image.title":   "mailmon",
		"org.opencontainers.image.version": b.Version,
		"org.opencontainers.image.created": b.Date.Format("2006-01-02T15:04:05Z07:00"),
	}
	if b.Commit != "" {
		rc.Labels["org.opencontainers.image.revision"] = b.Commit
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.Architecture, cf.OS, cf.Created, cf.Config = "amd64", "linux", v1.Time{Time: b.Date}, rc
	return mutate.ConfigFile(img, cf)
}

// numericUser reads USER UID:GID: numeric, so that a runtime can tell it
// is not root without reading the image's passwd (Kubernetes'
// runAsNonRoot).
func numericUser(s string) (uid, gid int, err error) {
	u, g, ok := strings.Cut(s, ":")
	uid, err1 := strconv.Atoi(u)
	gid, err2 := strconv.Atoi(g)
	if !ok || err1 != nil || err2 != nil || uid == 0 {
		return 0, 0, fmt.Errorf("USER %q: want a numeric UID:GID other than root's", s)
	}
	return uid, gid, nil
}

// rootfs is the image's one layer, as a tar.
func rootfs(b *build, uid, gid int, home string) ([]byte, error) {
	bin, err := os.ReadFile(b.Binary)
	if err != nil {
		return nil, err
	}
	check, err := os.ReadFile(b.Check)
	if err != nil {
		return nil, err
	}
	ca, err := os.ReadFile(caBundle)
	if err != nil {
		return nil, fmt.Errorf("the CA certificates (Debian's ca-certificates): %w", err)
	}
	passwd := fmt.Sprintf("root:x:0:0:root:/root:/sbin/nologin\nmailmon:x:%d:%d:mailmon:%s:/sbin/nologin\n", uid, gid, home)
	group := fmt.Sprintf("root:x:0:\nmailmon:x:%d:\n", gid)
	type entry struct {
		path     string
		mode     int64
		uid, gid int
		data     []byte // nil: a directory
	}
	entries := []entry{
		{"etc/", 0o755, 0, 0, nil},
		{"etc/group", 0o644, 0, 0, []byte(group)},
		{"etc/nsswitch.conf", 0o644, 0, 0, []byte("hosts: files dns\n")},
		{"etc/passwd", 0o644, 0, 0, []byte(passwd)},
		{"etc/ssl/", 0o755, 0, 0, nil},
		{"etc/ssl/certs/", 0o755, 0, 0, nil},
		{strings.TrimPrefix(caBundle, "/"), 0o644, 0, 0, ca},
		{strings.TrimPrefix(home, "/") + "/", 0o750, uid, gid, nil},
		{"tmp/", 0o1777, 0, 0, nil},
		{"usr/", 0o755, 0, 0, nil},
		{"usr/bin/", 0o755, 0, 0, nil},
		{"usr/bin/mailmon", 0o755, 0, 0, bin},
		{"usr/bin/mailmon-check", 0o755, 0, 0, check},
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.path, Mode: e.mode, Uid: e.uid, Gid: e.gid, ModTime: b.Date, Format: tar.FormatPAX}
		if e.data == nil {
			h.Typeflag = tar.TypeDir
		} else {
			h.Typeflag, h.Size = tar.TypeReg, int64(len(e.data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(e.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
