// Command tmpl prints facts from template.yaml for the Makefile and scripts.
//
//	go run ./local/cmd/tmpl functions   # LogicalIds of every AWS::Serverless::Function, one a line
//	go run ./local/cmd/tmpl dirs        # their functions/ folders, one a line
//	go run ./local/cmd/tmpl routes      # METHOD PATH LogicalId [public], one a line
//	go run ./local/cmd/tmpl tables      # LogicalIds of every AWS::DynamoDB::Table
package main

import (
	"fmt"
	"os"

	"github.com/contrail/contrail/local/template"
)

func main() {
	if len(os.Args) != 2 {
		fail("usage: tmpl functions|dirs|routes|tables")
	}
	path, err := template.Find()
	if err != nil {
		fail(err.Error())
	}
	t, err := template.Load(path)
	if err != nil {
		fail(err.Error())
	}
	switch os.Args[1] {
	case "functions":
		for _, f := range t.Functions() {
			fmt.Println(f.LogicalID)
		}
	case "dirs":
		for _, f := range t.Functions() {
			fmt.Println(f.Dir)
		}
	case "routes":
		for _, f := range t.Functions() {
			for _, r := range f.Routes {
				public := ""
				if r.Public {
					public = " public"
				}
				fmt.Printf("%s %s %s%s\n", r.Method, r.Path, f.LogicalID, public)
			}
		}
	case "tables":
		for _, tb := range t.Tables() {
			fmt.Println(tb.LogicalID)
		}
	default:
		fail("tmpl: unknown query " + os.Args[1] + " (want functions, dirs, routes or tables)")
	}
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, msg)
	os.Exit(2)
}
