package cli

import (
	"context"

	"github.com/mailmon/mailmon/internal/plugin"
	"github.com/mailmon/mailmon/internal/probe/kinds"
)

// Check is "mailmon check TYPE [flags]": package plugin.
func Check(ctx context.Context, args []string, env Env) int {
	plugin.Register(kinds.All(), nil, nil)
	return plugin.Check(ctx, args, plugin.Env{Stdout: env.Stdout, Stderr: env.Stderr, Getenv: env.Getenv,
		IsTerminal: env.IsTerminal, Prog: "mailmon check"})
}
