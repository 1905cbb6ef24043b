package realpg

import (
	"context"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { Main(m) }

// TestDatabasesAreSeparate: each test's database starts empty and is its own.
func TestDatabasesAreSeparate(t *testing.T) {
	ctx := context.Background()
	a, b := NewDB(t), NewDB(t)
	if a == b {
		t.Fatalf("the same database twice: %s", a)
	}
	ca, err := pgx.Connect(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	defer ca.Close(ctx)
	if _, err := ca.Exec(ctx, "CREATE TABLE x (v int); INSERT INTO x VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	cb, err := pgx.Connect(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	defer cb.Close(ctx)
	var n int
	if err := cb.QueryRow(ctx, "SELECT count(*) FROM pg_tables WHERE tablename='x'").Scan(&n); err != nil || n != 0 {
		t.Errorf("the other database has the table: %d %v", n, err)
	}
	s := Start(t)
	if s.Port < 20000 {
		t.Errorf("port %d < 20000", s.Port)
	}
	if _, err := os.Stat(s.Dir); err != nil {
		t.Error(err)
	}
}

// TestHaltResume: a halted server refuses connections; resumed, it is
// back on the same port with its data.
func TestHaltResume(t *testing.T) {
	ctx := context.Background()
	db := NewDB(t)
	c, err := pgx.Connect(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(ctx, "CREATE TABLE kept (v int); INSERT INTO kept VALUES (7)"); err != nil {
		t.Fatal(err)
	}
	c.Close(ctx)
	s := Start(t)
	port := s.Port
	s.Halt()
	if c, err := pgx.Connect(ctx, db); err == nil {
		c.Close(ctx)
		t.Fatal("connected to a halted server")
	}
	if err := s.Resume(); err != nil {
		t.Fatal(err)
	}
	c, err = pgx.Connect(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	var v int
	if err := c.QueryRow(ctx, "SELECT v FROM kept").Scan(&v); err != nil || v != 7 || s.Port != port {
		t.Errorf("after Resume: %d %v, port %d (was %d)", v, err, s.Port, port)
	}
}
