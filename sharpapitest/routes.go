package sharpapitest

import (
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Patterns the request pipeline treats specially.
const (
	pingPattern     = "GET " + apiPrefix + "/ping"
	quotaPattern    = "GET " + apiPrefix + "/quota"
	dispatchPattern = "POST " + apiPrefix + "/{group}/{action}"
)

// routes is the API's route table. The fixed AI endpoints share one
// pattern and are told apart by the endpoints catalog.
func (e *Emulator) routes() *http.ServeMux {
	mux := http.NewServeMux()
	for pattern, h := range map[string]http.HandlerFunc{
		pingPattern:     e.handlePing,
		quotaPattern:    e.handleQuota,
		dispatchPattern: e.handleDispatch,
		"GET " + apiPrefix + "/{group}/{action}/job/status/{id}": e.handleStatus(false),
		"GET " + apiPrefix + "/job/status/{id}":                  e.handleStatus(true),

		"GET " + apiPrefix + "/custom":         e.handleWorkflowList,
		"GET " + apiPrefix + "/custom/{slug}":  e.handleWorkflow,
		"POST " + apiPrefix + "/custom/{slug}": e.handleWorkflowDispatch,

		"GET " + apiPrefix + "/utilities/scrape_url":                   e.handleScrape,
		"GET " + apiPrefix + "/utilities/job_positions_list":           e.handleJobPositions,
		"GET " + apiPrefix + "/utilities/job_positions_details/{uuid}": e.handleJobPosition,
		"GET " + apiPrefix + "/airports":                               e.handleAirports,
		"GET " + apiPrefix + "/airports/iata/{code}":                   e.handleAirport(func(a airport) string { return a.IATA }),
		"GET " + apiPrefix + "/airports/icao/{code}":                   e.handleAirport(func(a airport) string { return a.ICAO }),
	} {
		mux.HandleFunc(pattern, h)
	}
	return mux
}

// route returns the pattern that will serve r, or "" if none does. The
// dispatch pattern counts only for paths in the endpoints catalog.
func (e *Emulator) route(r *http.Request) string {
	_, pattern := e.mux.Handler(r)
	if pattern == dispatchPattern {
		if _, ok := endpointByPath(strings.TrimPrefix(r.URL.Path, apiPrefix+"/")); !ok {
			return ""
		}
	}
	return pattern
}

// noRoute answers a request no route serves: 405 if the path is served
// for another method, else 404, in Laravel's words.
func (e *Emulator) noRoute(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost} {
		alt := r.Clone(r.Context())
		alt.Method = m
		if m != r.Method && e.route(alt) != "" {
			allow = append(allow, m)
			if m == http.MethodGet {
				allow = append(allow, http.MethodHead)
			}
		}
	}
	route := strings.TrimPrefix(r.URL.Path, "/")
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		writeMessage(w, http.StatusMethodNotAllowed, fmt.Sprintf(
			"The %s method is not supported for route %s. Supported methods: %s.", r.Method, route, strings.Join(allow, ", ")))
		return
	}
	writeMessage(w, http.StatusNotFound, fmt.Sprintf("The route %s could not be found.", route))
}

// handleDispatch creates a job on one of the fixed AI endpoints.
func (e *Emulator) handleDispatch(w http.ResponseWriter, r *http.Request) {
	ep, ok := endpointByPath(r.PathValue("group") + "/" + r.PathValue("action"))
	if !ok { // route checks this; kept for safety
		e.noRoute(w, r)
		return
	}
	req, err := readBody(w, r)
	if err != nil {
		return
	}
	if fe := ep.validate(req); !fe.empty() {
		fe.write(w, "")
		return
	}
	e.startJob(w, r, req, ep.jobType, ep.path)
}

// readBody parses a dispatch body, answering 400 if it is malformed.
// ServeHTTP has already read the body into memory.
func readBody(w http.ResponseWriter, r *http.Request) (JobRequest, error) {
	b, _ := io.ReadAll(r.Body)
	req, err := parseJobRequest(r, b)
	if err != nil {
		writeMessage(w, http.StatusBadRequest, "The request body is malformed.")
	}
	return req, err
}
