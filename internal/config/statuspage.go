package config

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// StatusPage is a page of chosen monitors' states for people outside the
// team (docs/status-pages.md): at /status/NAME, without a login when
// Public. Monitors are named as DEVICE/MONITOR, devices by name (all of a
// device's monitors, those added later too).
type StatusPage struct {
	Name        string   `yaml:"name" json:"name"`
	Title       string   `yaml:"title" json:"title"`
	Description string   `yaml:"description,omitempty" json:"description,omitempty"`
	Monitors    []string `yaml:"monitors,omitempty" json:"monitors,omitempty"`
	Devices     []string `yaml:"devices,omitempty" json:"devices,omitempty"`
	Public      bool     `yaml:"public,omitempty" json:"public"`
}

// SplitMonitorName splits "DEVICE/MONITOR" at its first slash.
func SplitMonitorName(s string) (device, monitor string, ok bool) {
	device, monitor, ok = strings.Cut(s, "/")
	return device, monitor, ok && device != "" && monitor != ""
}

// CheckPageName checks a status page's name, which is part of its
// address: /status/NAME, /badge/NAME/….
func CheckPageName(name string) error {
	if err := CheckName(name); err != nil {
		return err
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') || name == "." || name == ".." {
			return fmt.Errorf("%q cannot be in an address (/status/NAME): use letters, digits, '-', '_' and '.' only", name)
		}
	}
	return nil
}

// validateStatusPages checks the pages' shape; that the devices and
// monitors they name exist is apply's to check (catalog/statuspage.go), as
// they may be in the store and not in the file.
func (f *File) validateStatusPages(add func(path, format string, args ...any)) {
	names := map[string]bool{}
	for i := range f.StatusPages {
		sp := &f.StatusPages[i]
		p := fmt.Sprintf("status_pages[%d]", i)
		if err := CheckPageName(sp.Name); err != nil {
			add(p+".name", "%v", err)
		}
		if names[sp.Name] {
			add(p+".name", "status page %q is defined twice", sp.Name)
		}
		names[sp.Name] = true
		for _, pr := range sp.Check() {
			field := p
			if pr.Path != "" {
				field += "." + pr.Path
			}
			add(field, "%s", pr.Msg)
		}
	}
}

// Check checks a page's fields but its name (the API's and the file's
// checks alike); each problem's Path is the field's ("" for the page).
func (sp *StatusPage) Check() []FieldError {
	var errs []FieldError
	add := func(path, format string, args ...any) {
		errs = append(errs, FieldError{path, fmt.Sprintf(format, args...)})
	}
	if strings.TrimSpace(sp.Title) == "" {
		add("title", "is required: the page's heading, such as \"Example Mail status\"")
	} else if err := CheckName(sp.Title); err != nil {
		add("title", "%v", err)
	}
	if n := utf8.RuneCountInString(sp.Description); n > 1000 {
		add("description", "is %d characters: at most 1000", n)
	}
	if len(sp.Monitors) == 0 && len(sp.Devices) == 0 {
		add("", "a status page shows monitors or devices: give monitors: [DEVICE/MONITOR, …] or devices: [DEVICE, …]")
	}
	for j, name := range sp.Monitors {
		if _, _, ok := SplitMonitorName(name); !ok {
			add(fmt.Sprintf("monitors[%d]", j), "%q is not DEVICE/MONITOR: name a monitor with its device, such as \"mail1/SMTP\"", name)
		}
	}
	return errs
}
