package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

func TestRunConfig(t *testing.T) {
	path := filepath.Join(t.TempDir(), "Dockerfile")
	os.WriteFile(path, []byte(`FROM golang AS build
RUN make \
    things
USER 0:0
FROM scratch
COPY --from=build /out/ /
USER 10001:10001
WORKDIR /data
ENV HOME=/data
VOLUME ["/data"]
EXPOSE 8080 9090/udp
ENTRYPOINT ["/usr/bin/mailmon"]
CMD ["serve", \
     "--listen", "0.0.0.0:8080"]
HEALTHCHECK --interval=30s --retries=3 CMD ["/usr/bin/mailmon", "check"]
`), 0o644)
	got, err := runConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	want := v1.Config{User: "10001:10001", WorkingDir: "/data", Env: []string{"HOME=/data"},
		Volumes: map[string]struct{}{"/data": {}}, ExposedPorts: map[string]struct{}{"8080/tcp": {}, "9090/udp": {}},
		Entrypoint: []string{"/usr/bin/mailmon"}, Cmd: []string{"serve", "--listen", "0.0.0.0:8080"},
		Healthcheck: &v1.HealthConfig{Test: []string{"CMD", "/usr/bin/mailmon", "check"}, Interval: 30 * time.Second, Retries: 3}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}

	for text, wantErr := range map[string]string{
		"FROM scratch\nCMD serve --db x\n":           `:2: CMD: "serve --db x": not a JSON list`,
		"FROM a\nRUN x \\\n y\nFROM b\nRUN y\n":      `:5: RUN: not read by the image writer`,
		"FROM b\nHEALTHCHECK --every=3s CMD [\"x\"]": `:2: HEALTHCHECK: --every=3s: unknown option`,
		"RUN x\n": `no FROM`,
	} {
		os.WriteFile(path, []byte(text), 0o644)
		if _, err := runConfig(path); err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("%q: %v, want %q", text, err, wantErr)
		}
	}
}

func TestNumericUser(t *testing.T) {
	for _, u := range []string{"mailmon", "0:0", "10001", "10001:x"} {
		if _, _, err := numericUser(u); err == nil {
			t.Errorf("USER %s taken", u)
		}
	}
	if uid, gid, err := numericUser("10001:10002"); err != nil || uid != 10001 || gid != 10002 {
		t.Errorf("10001:10002: %d %d %v", uid, gid, err)
	}
}
