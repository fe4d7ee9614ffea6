package main

import (
	"database/sql"
	"fmt"
	"strings"

	_ "github.com/marcboeker/go-duckdb"
)

// openDuck opens an in-memory DuckDB limited to threads threads, on one connection.
func openDuck(threads int) (*sql.DB, error) {
	db, err := sql.Open("duckdb", fmt.Sprintf("?threads=%d", threads))
	if err != nil {
		return nil, fmt.Errorf("open duckdb: %w", err)
	}
	db.SetMaxOpenConns(1)
	var got int
	if err := db.QueryRow("SELECT current_setting('threads')::INT").Scan(&got); err != nil {
		db.Close()
		return nil, fmt.Errorf("duckdb threads: %w", err)
	}
	if got != threads {
		db.Close()
		return nil, fmt.Errorf("duckdb runs %d threads, want %d", got, threads)
	}
	return db, nil
}

// sqlString quotes s as an SQL string literal.
func sqlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
