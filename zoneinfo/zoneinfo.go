// Package zoneinfo is the IANA time zone database the billing system computes
// dates with, embedded in the binary: workflows and activities read zones
// from it, never from the machine, so every worker computes the same dates
// and a replay on a machine with other tzdata can't diverge.
package zoneinfo

import (
	"archive/zip"
	"bytes"
	_ "embed"
	"fmt"
	"io"
	"sync"
	"time"
)

// zoneinfo is a committed copy of $GOROOT/lib/time/zoneinfo.zip (Go 1.26).
// Updating it is a change of code: replay tests and, where dates move,
// workflow.GetVersion.
//
//go:embed zoneinfo.zip
var zoneinfo []byte

var zones sync.Map // name -> *time.Location

// Load returns the time zone name from the embedded database, UTC if it has
// no such zone.
func Load(name string) *time.Location {
	if name == "" || name == "UTC" {
		return time.UTC
	}
	if loc, ok := zones.Load(name); ok {
		return loc.(*time.Location)
	}
	loc := time.UTC
	if data, err := zoneData(name); err == nil {
		if l, err := time.LoadLocationFromTZData(name, data); err == nil {
			loc = l
		}
	}
	zones.Store(name, loc)
	return loc
}

// zoneFiles indexes the database once, outside any workflow.
var zoneFiles = func() map[string]*zip.File {
	files := map[string]*zip.File{}
	r, err := zip.NewReader(bytes.NewReader(zoneinfo), int64(len(zoneinfo)))
	if err != nil {
		panic("zoneinfo: the embedded zone database is unreadable: " + err.Error())
	}
	for _, f := range r.File {
		files[f.Name] = f
	}
	return files
}()

func zoneData(name string) ([]byte, error) {
	f, ok := zoneFiles[name]
	if !ok {
		return nil, fmt.Errorf("no time zone %q", name)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

// Valid reports whether name is a zone of the embedded database (or UTC).
func Valid(name string) bool {
	_, ok := zoneFiles[name]
	return ok || name == "UTC"
}
