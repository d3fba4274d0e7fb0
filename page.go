package billing

// PageRequest asks for one page of a list: at most Limit items (50 when 0)
// after skipping Offset.
type PageRequest struct {
	Limit  int
	Offset int
}

// Page is one page of a list with the total number of matches.
type Page[T any] struct {
	Items  []T `json:"items"`
	Total  int `json:"total"`
	Limit  int `json:"limit"`
	Offset int `json:"offset"`
}
