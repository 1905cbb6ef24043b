package cli

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/mailmon/mailmon/internal/version"
)

// Version is "mailmon version [--output text|json]".
func Version(args []string, env Env) int {
	fs := newFlags("version", env)
	output := fs.String("output", "text", "output: text or json")
	if code, done := parseFlags(fs, args, env, nil); done {
		return code
	}
	if fs.NArg() > 0 {
		return errorf(env, "version: unexpected argument %q", fs.Arg(0))
	}
	v := version.Get()
	switch strings.ToLower(*output) {
	case "text":
		fmt.Fprintln(env.Stdout, v)
	case "json":
		b, _ := json.Marshal(v)
		fmt.Fprintf(env.Stdout, "%s\n", b)
	default:
		return errorf(env, "version: --output: %q is not text or json", *output)
	}
	return ExitOK
}
