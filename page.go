package billing

// PageRequest asks for one page of a list: at most Limit items (50 when 0)
// after skipping Offset.
type PageRequest struct {
	Limit  int
	Offset int
}

// Page is one page of a list with the total number of matches. A list that
// counts its matches only up to a limit (customers) sets TotalCapped when
// more match: Total is then that limit, a lower bound.
type Page[T any] struct {
	Items       []T  `json:"items"`
	Total       int  `json:"total"`
	TotalCapped bool `json:"total_capped,omitempty"`
	Limit       int  `json:"limit"`
	Offset      int  `json:"offset"`
}
