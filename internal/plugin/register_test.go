package plugin

import "github.com/mailmon/mailmon/internal/probe/kinds"

// The package's tests check every type, as "mailmon check" does.
func init() { Register(kinds.All(), nil, nil) }
