package sharpapitest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/sharpapi-go/sharpapi/sharpapitest"
)

// ExampleNewServer dispatches a translation with plain net/http and polls
// its status URL, as any SharpAPI client does.
func ExampleNewServer() {
	srv := sharpapitest.NewServer(sharpapitest.WithJobDuration(0))
	defer srv.Close()

	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/content/translate",
		strings.NewReader(`{"content": "La montée du niveau de la mer", "language": "English"}`))
	req.Header.Set("Authorization", "Bearer any-key")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	var job struct {
		StatusURL string `json:"status_url"`
	}
	json.NewDecoder(resp.Body).Decode(&job)
	resp.Body.Close()
	fmt.Println("dispatch:", resp.StatusCode)

	req, _ = http.NewRequest(http.MethodGet, job.StatusURL, nil)
	req.Header.Set("Authorization", "Bearer any-key")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	var status struct {
		Data struct {
			Attributes struct {
				Status string
				Type   string
				Result struct {
					ToLanguage   string `json:"to_language"`
					FromLanguage string `json:"from_language"`
				}
			}
		}
	}
	json.NewDecoder(resp.Body).Decode(&status)
	a := status.Data.Attributes
	fmt.Println(a.Type, a.Status, a.Result.FromLanguage, "->", a.Result.ToLanguage)
	// Output:
	// dispatch: 202
	// content_translate success French -> English
}
