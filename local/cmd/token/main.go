// Command token prints one development token for the local gateway on stdout and nothing
// else, so TOKEN=$(make -s token ROLE=agent TENANT=demo) works. The signing key is created
// under .local/ on first use; `make run` trusts the same key.
//
//	go run ./local/cmd/token -role agent -tenant demo [-user u-1] [-name "Ana"] [-ttl 12h]
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/contrail/contrail/local/devauth"
	"github.com/contrail/contrail/local/template"
)

func main() {
	role := flag.String("role", "", "admin, agent or service (comma-separated for several)")
	tenant := flag.String("tenant", "", "tenant id (custom:tenant_id)")
	user := flag.String("user", "", "user id (sub); default <role>-<tenant>")
	name := flag.String("name", "", "display name; default <Role> (<tenant>)")
	ttl := flag.Duration("ttl", devauth.DefaultTTL, "how long the token is valid")
	keyPath := flag.String("key", "", "signing key file; default .local/"+devauth.KeyFile+" at the repository root")
	flag.Parse()

	if *role == "" || *tenant == "" {
		fail("usage: make token ROLE=admin|agent|service TENANT=<id> [USER=<id>] [NAME=<display name>]")
	}
	if *keyPath == "" {
		tpl, err := template.Find()
		if err != nil {
			fail(err.Error())
		}
		*keyPath = filepath.Join(filepath.Dir(tpl), ".local", devauth.KeyFile)
	}
	key, err := devauth.LoadOrCreateKey(*keyPath)
	if err != nil {
		fail(err.Error())
	}
	tok, err := devauth.Mint(key, devauth.Claims{
		Tenant: *tenant,
		User:   *user,
		Name:   *name,
		Roles:  strings.Split(*role, ","),
	}, time.Now(), *ttl)
	if err != nil {
		fail(err.Error())
	}
	fmt.Println(tok)
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "token: "+msg)
	os.Exit(2)
}
