package main

import (
	"fmt"
	"io"
	mathrand "math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"
)

// readKind is one kind of request of the read measurement, with its share
// of the requests (in tenths) and how to build one.
type readKind struct {
	name  string
	share int
	path  func(r *mathrand.Rand) string
}

// readResult is what one request of the read measurement met.
type readResult struct {
	kind    int
	latency time.Duration
	failed  bool
}

// reads is the "reads" phase: API reads at a fixed request rate (open loop:
// requests leave on a fixed schedule whether or not earlier ones were
// answered, and each latency runs from the moment its request was due, so a
// slow answer can't hide the queue behind it), a mix of GET
// /subscriptions/{id} and customer lists with filters, over the sleeping
// subscriptions; p50, p99 and the slowest, per kind.
func (b *bench) reads() ([]row, error) {
	if err := b.ensureSleeping(); err != nil {
		return nil, err
	}
	// Autovacuum would have visited the tables after so many inserts by
	// the time a provider reads them; don't leave it to chance.
	for _, table := range []string{"customers", "subscriptions"} {
		if _, err := b.st.Pool().Exec(b.ctx, "VACUUM ANALYZE "+table); err != nil {
			return nil, err
		}
	}
	kinds, err := b.readKinds()
	if err != nil {
		return nil, err
	}
	var deck []int // kind of each of ten requests
	for k, kind := range kinds {
		for range kind.share {
			deck = append(deck, k)
		}
	}
	// Warm up the connections and PostgreSQL's caches, one request at a
	// time: each kind's time without a queue, for comparison.
	rnd := mathrand.New(mathrand.NewPCG(1, 2))
	for _, kind := range kinds {
		var lat []time.Duration
		for range 50 {
			began := time.Now()
			b.readOnce(kind.path(rnd))
			lat = append(lat, time.Since(began))
		}
		slices.Sort(lat)
		fmt.Printf("reads: %s one at a time: p50 %s, max %s\n", kind.name, ms(lat[len(lat)/2]), ms(lat[len(lat)-1]))
	}

	total := b.f.rps * b.f.seconds
	interval := time.Second / time.Duration(b.f.rps)
	results := make([]readResult, total)
	paths := make([]string, total)
	for i := range total {
		k := deck[rnd.IntN(len(deck))]
		results[i].kind, paths[i] = k, kinds[k].path(rnd)
	}
	var wg sync.WaitGroup
	began := time.Now()
	for i := range total {
		due := began.Add(time.Duration(i) * interval)
		if d := time.Until(due); d > 0 {
			time.Sleep(d)
		}
		wg.Go(func() {
			results[i].failed = !b.readOnce(paths[i])
			results[i].latency = time.Since(due)
		})
	}
	sent := time.Since(began)
	wg.Wait()
	fmt.Printf("reads: %d requests sent in %.1f s (%.0f/s asked), over %d subscriptions\n", total, sent.Seconds(), float64(b.f.rps), len(b.sleepers))

	var rows []row
	for k, kind := range kinds {
		var lat []time.Duration
		failed := 0
		for _, r := range results {
			if r.kind != k {
				continue
			}
			lat = append(lat, r.latency)
			if r.failed {
				failed++
			}
		}
		if len(lat) == 0 {
			continue
		}
		slices.Sort(lat)
		p50, p99 := lat[len(lat)/2], lat[min(len(lat)-1, len(lat)*99/100)]
		rows = append(rows, row{
			measure: fmt.Sprintf("API reads at %d/s for %d s with %d subscriptions: %s (%d requests, %d failed)",
				b.f.rps, b.f.seconds, len(b.sleepers), kind.name, len(lat), failed),
			billing: fmt.Sprintf("p50 %s, p99 %s, max %s", ms(p50), ms(p99), ms(lat[len(lat)-1])),
			bare:    "-", ratio: "-", target: "p99 <= 20 ms"})
	}
	return rows, nil
}

// readKinds are the requests of the read measurement: a subscription with
// its live schedule, and customer lists with each filter the API has.
func (b *bench) readKinds() ([]readKind, error) {
	var projects, groups []string
	rows, err := b.st.Pool().Query(b.ctx, "SELECT DISTINCT project, customer_group FROM customers")
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var p, g string
		if err := rows.Scan(&p, &g); err != nil {
			return nil, err
		}
		projects, groups = append(projects, p), append(groups, g)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return []readKind{
		{"GET /subscriptions/{id}", 5, func(r *mathrand.Rand) string {
			return fmt.Sprintf("/api/v1/subscriptions/%d", b.sleepers[r.IntN(len(b.sleepers))].subscriptionID)
		}},
		{"GET /customers?name= (a substring)", 2, func(r *mathrand.Rand) string {
			return "/api/v1/customers?name=" + fmt.Sprintf("%05x", r.IntN(1<<20))
		}},
		{"GET /customers?status=active&has_active_services=true&sort=-registered_at", 2, func(r *mathrand.Rand) string {
			return "/api/v1/customers?status=active&has_active_services=true&sort=-registered_at"
		}},
		{"GET /customers?project=&group=&sort=name", 1, func(r *mathrand.Rand) string {
			i := r.IntN(len(projects))
			return "/api/v1/customers?sort=name&project=" + url.QueryEscape(projects[i]) + "&group=" + url.QueryEscape(groups[i])
		}},
	}, nil
}

// readOnce sends GET path with the bench's token; false unless it got 200.
func (b *bench) readOnce(path string) bool {
	req, err := http.NewRequestWithContext(b.ctx, "GET", b.m.URL+path, nil)
	if err != nil {
		return false
	}
	req.Header.Set("Authorization", "Bearer "+b.token)
	res, err := b.http.Do(req)
	if err != nil {
		return false
	}
	defer res.Body.Close()
	_, err = io.Copy(io.Discard, res.Body)
	return err == nil && res.StatusCode == http.StatusOK
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }
