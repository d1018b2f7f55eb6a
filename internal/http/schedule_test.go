package http_test

import (
	"errors"
	"strings"
	"testing"

	apihttp "github.com/opetushallitus/mpass-audit/internal/http"
	"github.com/opetushallitus/mpass-audit/internal/mpass"
)

func TestParseSchedule(t *testing.T) {
	for _, spec := range []string{"0 3 1 * *", "@monthly", "30 2 1 */3 *"} {
		if _, err := apihttp.ParseSchedule(spec); err != nil {
			t.Errorf("%q: %v", spec, err)
		}
	}
	for _, spec := range []string{"0 3 1 *", "", "0 3 1 * * *", "0 25 1 * *", "monthly"} {
		_, err := apihttp.ParseSchedule(spec)
		var e *mpass.Error
		if !errors.As(err, &e) || e.Code != mpass.EINVALID || !strings.Contains(err.Error(), `--schedule "`+spec+`"`) {
			t.Errorf("%q: %v, want an EINVALID error naming the spec", spec, err)
		}
	}
}
