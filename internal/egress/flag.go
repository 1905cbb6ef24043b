package egress

import "strings"

// Items is the value of --allow-targets: the flag may be repeated, and each
// may list several items separated by commas.
type Items []string

func (l *Items) String() string { return strings.Join(*l, ",") }

// Set adds the items of one --allow-targets.
func (l *Items) Set(v string) error {
	for _, it := range strings.Split(v, ",") {
		if it = strings.TrimSpace(it); it != "" {
			*l = append(*l, it)
		}
	}
	_, err := Parse(*l)
	return err
}
