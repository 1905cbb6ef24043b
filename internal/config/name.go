package config

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/mailmon/mailmon/internal/wire"
)

// CheckName checks the name of a device, monitor, alert, credential, user
// or token: 1 to 64 characters on one line, none of them a control
// character or one that reorders text without showing itself
// (wire.IsHidden). Names show on terminals, pages, CSV files and metric
// labels, where such a character would make one name look like another.
func CheckName(name string) error {
	if n := utf8.RuneCountInString(name); n < 1 || n > 64 || strings.ContainsAny(name, "\r\n\t") {
		return fmt.Errorf("a name is 1 to 64 characters on one line")
	}
	for i, r := range []rune(name) {
		if wire.IsHidden(r) {
			return fmt.Errorf("character %d of the name is %U, a control or text-direction character that would make the name show as another: remove it", i+1, r)
		}
	}
	return nil
}
