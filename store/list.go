package store

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/store/dbsqlc"
)

// Every list is read a page at a time by page: a count of every match and the
// rows of one page. Most lists are sqlc queries; a list whose filters or order
// are chosen at run time (customers, the audit log) is built by listQuery,
// the one place the store writes SQL by hand.

// clampPage applies the list defaults: 50 items, at most 200.
func clampPage(limit, offset int) (int, int) {
	if limit <= 0 {
		limit = 50
	}
	return min(limit, 200), max(offset, 0)
}

// page reads the page req asks for: total counts every match, items reads at
// most limit of them after skipping offset.
func page[T any](req billing.PageRequest, total func() (int64, error), items func(limit, offset int64) ([]T, error)) (billing.Page[T], error) {
	p := billing.Page[T]{Items: []T{}}
	p.Limit, p.Offset = clampPage(req.Limit, req.Offset)
	n, err := total()
	if err != nil {
		return p, err
	}
	p.Total = int(n)
	list, err := items(int64(p.Limit), int64(p.Offset))
	if list != nil {
		p.Items = list
	}
	return p, err
}

// fromRows converts generated rows to domain values. The result is never nil:
// an empty list is [] in JSON.
func fromRows[R, T any](rows []R, conv func(R) T) []T {
	out := make([]T, len(rows))
	for i, r := range rows {
		out[i] = conv(r)
	}
	return out
}

// listQuery collects the filters of a list chosen at run time.
type listQuery struct {
	where []string
	args  []any
	// countLimit, if not 0, is how many matches the total counts at most.
	countLimit int
}

// filter adds the condition cond, whose %s stand for args in order (a LIKE
// pattern's % goes in its argument, not in cond).
func (q *listQuery) filter(cond string, args ...any) {
	marks := make([]any, len(args))
	for i, a := range args {
		q.args = append(q.args, a)
		marks[i] = fmt.Sprintf("$%d", len(q.args))
	}
	q.where = append(q.where, fmt.Sprintf(cond, marks...))
}

// listPage reads the page req asks for of "SELECT columns FROM table", filtered
// by q and sorted by order. Rows are scanned by column name into R (a
// generated row, or a row type next to the list) and converted by conv.
func listPage[R, T any](ctx context.Context, db dbsqlc.DBTX, table, columns string, q listQuery, order string,
	req billing.PageRequest, conv func(R) T) (billing.Page[T], error) {
	cond := ""
	if len(q.where) > 0 {
		cond = " WHERE " + strings.Join(q.where, " AND ")
	}
	total := func() (n int64, err error) {
		count := "SELECT count(*) FROM " + table + cond
		if q.countLimit > 0 {
			count = fmt.Sprintf("SELECT count(*) FROM (SELECT 1 FROM %s%s LIMIT %d) t", table, cond, q.countLimit+1)
		}
		err = db.QueryRow(ctx, count, q.args...).Scan(&n)
		return n, err
	}
	p, err := page(req, total, func(limit, offset int64) ([]T, error) {
		n := len(q.args)
		rows, err := db.Query(ctx, fmt.Sprintf("SELECT %s FROM %s%s ORDER BY %s LIMIT $%d OFFSET $%d",
			columns, table, cond, order, n+1, n+2), slices.Concat(q.args, []any{limit, offset})...)
		if err != nil {
			return nil, err
		}
		got, err := pgx.CollectRows(rows, pgx.RowToStructByName[R])
		if err != nil {
			return nil, err
		}
		return fromRows(got, conv), nil
	})
	if q.countLimit > 0 && p.Total > q.countLimit {
		p.Total, p.TotalCapped = q.countLimit, true
	}
	return p, err
}
