package cli

import (
	"context"

	"github.com/mailmon/mailmon/internal/plugin"
)

// Check is "mailmon check TYPE [flags]": package plugin.
func Check(ctx context.Context, args []string, env Env) int {
	return plugin.Check(ctx, args, plugin.Env{Stdout: env.Stdout, Stderr: env.Stderr, Getenv: env.Getenv,
		IsTerminal: env.IsTerminal, Prog: "mailmon check"})
}
