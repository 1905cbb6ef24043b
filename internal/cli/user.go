package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/mailmon/mailmon/internal/web"
	"github.com/mailmon/mailmon/internal/wire"
)

// User is "mailmon user add NAME" (and passwd, list, delete): web UI
// logins.
func User(ctx context.Context, args []string, env Env) int {
	const use = "user: usage: mailmon user add NAME | passwd NAME | list | delete NAME [--db FILE]"
	if len(args) == 0 {
		return errorf(env, use)
	}
	cmd := args[0]
	if isHelp(cmd) {
		cmd, args = "list", []string{"list", "--help"} // one set of flags for all four
	}
	fs := newFlags("user "+cmd, env)
	dbo := dbFlags(fs)
	// The name may stand before or after the flags.
	rest := args[1:]
	var name string
	if len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		name, rest = rest[0], rest[1:]
	}
	if code, done := parseFlags(fs, rest, env, nil); done {
		return code
	}
	if name == "" && fs.NArg() > 0 {
		name = fs.Arg(0)
	}
	needName := cmd == "add" || cmd == "passwd" || cmd == "delete"
	if (cmd != "list" && !needName) || (needName && name == "") {
		return errorf(env, use)
	}
	st, _, err := openDB(ctx, dbo, false, env) // logins need no vault
	if err != nil {
		return errorf(env, "user: %v", err)
	}
	defer st.Close()
	switch cmd {
	case "add":
		pw, err := newPassword(env)
		if err != nil {
			return errorf(env, "user add: %v", err)
		}
		if _, err := web.AddUser(ctx, st, name, pw, 0); err != nil {
			return errorf(env, "user add: %v", err)
		}
		fmt.Fprintf(env.Stdout, "user %s added\n", name)
	case "passwd":
		u, err := st.UserByName(ctx, name)
		if err != nil {
			return errorf(env, "user passwd: no user is named %q", name)
		}
		pw, err := newPassword(env)
		if err != nil {
			return errorf(env, "user passwd: %v", err)
		}
		if err := web.SetPassword(ctx, st, u, pw, "", 0); err != nil {
			return errorf(env, "user passwd: %v", err)
		}
		fmt.Fprintf(env.Stdout, "password of %s changed; its sessions are logged out\n", name)
	case "list":
		us, err := st.Users(ctx)
		if err != nil {
			return errorf(env, "user list: %v", err)
		}
		for _, u := range us {
			fmt.Fprintf(env.Stdout, "%s\tcreated %s\n", wire.Sanitize(u.Name), u.Created.Format("2006-01-02T15:04:05Z07:00"))
		}
	case "delete":
		u, err := st.UserByName(ctx, name)
		if err != nil {
			return errorf(env, "user delete: no user is named %q", name)
		}
		if err := st.DeleteUser(ctx, u.ID); err != nil {
			return errorf(env, "user delete: %v", err)
		}
	}
	return ExitOK
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
