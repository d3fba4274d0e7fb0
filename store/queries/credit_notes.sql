-- CreditNoteNextNumber takes the next credit note number of year, under the
-- year's counter row lock (see InvoiceNextNumber): gapless.
-- name: CreditNoteNextNumber :one
INSERT INTO credit_note_counters (year, last) VALUES (@year, 1)
ON CONFLICT (year) DO UPDATE SET last = credit_note_counters.last + 1
RETURNING last;

-- name: CreditNoteInsert :one
INSERT INTO credit_notes (number, year, seq, invoice_id, customer_id, ledger_entry_id, request_key, currency,
    amount, reason, issued_at)
VALUES (@number, @year, @seq, @invoice_id, @customer_id, @ledger_entry_id, @request_key, @currency,
    @amount, @reason, @issued_at)
RETURNING id;

-- CreditNoteCredited is what the credit notes of an invoice sum to.
-- name: CreditNoteCredited :one
SELECT coalesce(sum(amount), 0)::bigint FROM credit_notes WHERE invoice_id = $1;

-- name: CreditNoteIDByKey :one
SELECT id FROM credit_notes WHERE request_key = $1;

-- name: CreditNoteGet :one
SELECT cn.*, i.number AS invoice_number FROM credit_notes cn JOIN invoices i ON i.id = cn.invoice_id
WHERE cn.id = $1;

-- CreditNotesOfInvoices lists the credit notes of the invoices, oldest first.
-- name: CreditNotesOfInvoices :many
SELECT id, number, invoice_id, amount FROM credit_notes WHERE invoice_id = ANY(@invoice_ids::bigint[])
ORDER BY id;

-- name: CreditNoteCount :one
SELECT count(*) FROM credit_notes
WHERE (sqlc.narg('customer_id')::bigint IS NULL OR customer_id = sqlc.narg('customer_id'))
  AND (sqlc.narg('invoice_id')::bigint IS NULL OR invoice_id = sqlc.narg('invoice_id'))
  AND (sqlc.narg('from')::timestamptz IS NULL OR issued_at >= sqlc.narg('from'))
  AND (sqlc.narg('until')::timestamptz IS NULL OR issued_at < sqlc.narg('until'));

-- name: CreditNoteList :many
SELECT cn.*, i.number AS invoice_number FROM credit_notes cn JOIN invoices i ON i.id = cn.invoice_id
WHERE (sqlc.narg('customer_id')::bigint IS NULL OR cn.customer_id = sqlc.narg('customer_id'))
  AND (sqlc.narg('invoice_id')::bigint IS NULL OR cn.invoice_id = sqlc.narg('invoice_id'))
  AND (sqlc.narg('from')::timestamptz IS NULL OR cn.issued_at >= sqlc.narg('from'))
  AND (sqlc.narg('until')::timestamptz IS NULL OR cn.issued_at < sqlc.narg('until'))
ORDER BY cn.id DESC
LIMIT sqlc.arg('limit')::bigint OFFSET sqlc.arg('offset')::bigint;
