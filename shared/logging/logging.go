// Package logging sets up slog for a function: JSON on stdout, level from the Lambda
// advanced logging controls (AWS_LAMBDA_LOG_LEVEL), snake_case keys.
package logging

import (
	"log/slog"
	"os"
	"strings"
)

// init sets up logging when the package is imported: every function's main.go imports it
// (blank), so that everything it logs, from its first line, is JSON at the configured level.
func init() { Setup() }

// Setup makes a JSON slog logger the default and returns it.
func Setup() *slog.Logger {
	level := slog.LevelInfo
	switch strings.ToUpper(os.Getenv("AWS_LAMBDA_LOG_LEVEL")) {
	case "DEBUG", "TRACE":
		level = slog.LevelDebug
	case "WARN":
		level = slog.LevelWarn
	case "ERROR", "FATAL":
		level = slog.LevelError
	}
	l := slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: level}))
	slog.SetDefault(l)
	return l
}
