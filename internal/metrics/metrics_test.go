package metrics

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// The SDK names one metric with different tag sets (a poller, then a
// workflow type); each becomes one series of one Prometheus metric, and
// tags Tocsin does not know are dropped rather than refused.
func TestSDKMetricsWithAnyTagsReachPrometheus(t *testing.T) {
	s := New()
	h := s.Temporal().WithTags(map[string]string{"namespace": "tocsin", "task_queue": "tocsin"})
	h.Counter("temporal_request").Inc(2)
	h.WithTags(map[string]string{"operation": "PollActivityTaskQueue", "some_future_tag": "x"}).Counter("temporal_request").Inc(1)
	h.WithTags(map[string]string{"workflow_type": "IncidentWorkflow"}).Timer("temporal_workflow_endtoend_latency").Record(1500 * time.Millisecond)
	h.Gauge("temporal_num_pollers").Update(3)
	s.Send("sms", "in_doubt", 20*time.Second)

	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	out := string(body)
	for _, want := range []string{
		`temporal_request_total{activity_type="",cause="",client_name="",failure_reason="",namespace="tocsin",operation="",poller_type="",status_code="",task_queue="tocsin",worker_type="",workflow_type=""} 2`,
		`operation="PollActivityTaskQueue"`,
		`temporal_workflow_endtoend_latency_seconds_sum{`,
		`temporal_num_pollers{`,
		`tocsin_sends_total{channel="sms",outcome="in_doubt"} 1`,
		`tocsin_provider_seconds_bucket{channel="sms",le="30"} 1`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %s", want)
		}
	}
	if strings.Contains(out, "some_future_tag") {
		t.Error("an unknown tag became a label")
	}
}
