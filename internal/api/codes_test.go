package api

import (
	"slices"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/mailmon/mailmon/internal/probe"
)

// TestOpenAPIListsEveryCode: the result's error codes in the document are
// the probes' own.
func TestOpenAPIListsEveryCode(t *testing.T) {
	var doc struct {
		Components struct {
			Schemas struct {
				Result struct {
					Properties struct {
						Error struct {
							Properties struct {
								Code struct {
									Enum []probe.Code `yaml:"enum"`
								} `yaml:"code"`
							} `yaml:"properties"`
						} `yaml:"error"`
					} `yaml:"properties"`
				} `yaml:"Result"`
			} `yaml:"schemas"`
		} `yaml:"components"`
	}
	if err := yaml.Unmarshal(OpenAPI, &doc); err != nil {
		t.Fatal(err)
	}
	if got := doc.Components.Schemas.Result.Properties.Error.Properties.Code.Enum; !slices.Equal(got, probe.Codes()) {
		t.Errorf("openapi.yaml lists the codes %v, the probes have %v", got, probe.Codes())
	}
}
