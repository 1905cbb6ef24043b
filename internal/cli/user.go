package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/mailmon/mailmon/internal/catalog"
	"github.com/mailmon/mailmon/internal/web"
	"github.com/mailmon/mailmon/internal/wire"
)

// User is "mailmon user add NAME [--role R]" (and role, passwd, 2fa-reset,
// list, delete): web UI logins and their roles (docs/teams.md).
func User(ctx context.Context, args []string, env Env) int {
	const use = "user: usage: mailmon user add NAME [--role viewer|editor|admin] | role NAME ROLE | passwd NAME | 2fa-reset NAME | list | delete NAME [--db FILE]"
	if len(args) == 0 {
		return errorf(env, use)
	}
	cmd := args[0]
	if isHelp(cmd) {
		cmd, args = "list", []string{"list", "--help"} // one set of flags for all four
	}
	fs := newFlags("user "+cmd, env)
	dbo := dbFlags(fs)
	roleFlag := fs.String("role", string(catalog.Admin), "add: the user's role: viewer (reads), editor (also changes devices, monitors, alerts), admin (also credentials, users, tokens)")
	// The name (and a role) may stand before or after the flags.
	var pos []string
	rest := args[1:]
	for len(rest) > 0 {
		for len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
			pos, rest = append(pos, rest[0]), rest[1:]
		}
		if code, done := parseFlags(fs, rest, env, nil); done {
			return code
		}
		rest = fs.Args()
	}
	name := ""
	if len(pos) > 0 {
		name = pos[0]
	}
	switch {
	case cmd == "list":
	case cmd == "role" && len(pos) == 2:
	case (cmd == "add" || cmd == "passwd" || cmd == "delete" || cmd == "2fa-reset") && len(pos) == 1:
	default:
		return errorf(env, use)
	}
	st, _, err := openDB(ctx, dbo, false, env) // logins need no vault
	if err != nil {
		return errorf(env, "user: %v", err)
	}
	defer st.Close()
	cat, op := &catalog.Catalog{Store: st}, operator(env)
	switch cmd {
	case "add":
		role, err := catalog.ParseRole(*roleFlag)
		if err != nil {
			return errorf(env, "user add: --role: %v", err)
		}
		pw, err := newPassword(env)
		if err != nil {
			return errorf(env, "user add: %v", err)
		}
		if _, err := web.AddUser(ctx, cat, op, name, pw, role, 0); err != nil {
			return errorf(env, "user add: %v", err)
		}
		fmt.Fprintf(env.Stdout, "user %s added (%s)\n", name, role)
	case "role":
		role, err := catalog.ParseRole(pos[1])
		if err != nil {
			return errorf(env, "user role: %v", err)
		}
		u, err := st.UserByName(ctx, name)
		if err != nil {
			return errorf(env, "user role: no user is named %q", name)
		}
		u.Role = string(role)
		if err := cat.PutUser(ctx, op, u); err != nil {
			return errorf(env, "user role: %v", err)
		}
		fmt.Fprintf(env.Stdout, "%s is now %s\n", name, role)
	case "passwd":
		u, err := st.UserByName(ctx, name)
		if err != nil {
			return errorf(env, "user passwd: no user is named %q", name)
		}
		pw, err := newPassword(env)
		if err != nil {
			return errorf(env, "user passwd: %v", err)
		}
		if err := web.SetPassword(ctx, cat, op, u, pw, "", 0); err != nil {
			return errorf(env, "user passwd: %v", err)
		}
		fmt.Fprintf(env.Stdout, "password of %s changed; its sessions are logged out\n", name)
	case "2fa-reset":
		u, err := st.UserByName(ctx, name)
		if err != nil {
			return errorf(env, "user 2fa-reset: no user is named %q", name)
		}
		u.TOTPSecret, u.RecoveryCodes = "", nil
		if err := cat.PutUser(ctx, op, u); err != nil {
			return errorf(env, "user 2fa-reset: %v", err)
		}
		fmt.Fprintf(env.Stdout, "two-factor login of %s is off; they enrol again at their next login if their role needs it\n", name)
	case "list":
		us, err := st.Users(ctx)
		if err != nil {
			return errorf(env, "user list: %v", err)
		}
		for _, u := range us {
			twoFactor := "2fa off"
			if u.TOTPSecret != "" {
				twoFactor = "2fa on"
			}
			fmt.Fprintf(env.Stdout, "%s\t%s\t%s\tcreated %s\n", wire.Sanitize(u.Name), wire.Sanitize(u.Role), twoFactor, u.Created.Format("2006-01-02T15:04:05Z07:00"))
		}
	case "delete":
		u, err := st.UserByName(ctx, name)
		if err != nil {
			return errorf(env, "user delete: no user is named %q", name)
		}
		if err := cat.DeleteUser(ctx, op, u.ID); err != nil {
			return errorf(env, "user delete: %v", err)
		}
	}
	return ExitOK
}

// operatorName is who runs a command on the host, for the audit log: the
// login that ran sudo, else the login.
func operatorName(env Env) string {
	if env.Getenv != nil {
		for _, k := range []string{"SUDO_USER", "USER", "LOGNAME"} {
			if v := env.Getenv(k); v != "" {
				return v
			}
		}
	}
	return "operator"
}

// operator is the catalog's origin of a command on the host.
func operator(env Env) catalog.Origin {
	return catalog.Operator.As(catalog.Actor{Name: operatorName(env)})
}

// newPassword reads a new password: twice from a terminal, without echo;
// else the first line of stdin.
func newPassword(env Env) (string, error) {
	if env.ReadPassword != nil {
		pw, err := env.ReadPassword("Password: ")
		if err != nil {
			return "", err
		}
		if err := web.CheckPassword(pw); err != nil {
			return "", err
		}
		again, err := env.ReadPassword("Password again: ")
		if err != nil {
			return "", err
		}
		if pw != again {
			return "", errors.New("the passwords differ")
		}
		return pw, nil
	}
	if env.Stdin == nil {
		return "", errors.New("no password: stdin is not readable")
	}
	line, err := bufio.NewReader(env.Stdin).ReadString('\n')
	if err != nil && line == "" {
		return "", errors.New("no password on stdin")
	}
	return strings.TrimRight(line, "\r\n"), nil
}
