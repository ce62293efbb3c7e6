package browser

import (
	"errors"

	"github.com/rs/zerolog"
)

func errorsIs(err, target error) bool { return errors.Is(err, target) }

var noLog = zerolog.Nop()
