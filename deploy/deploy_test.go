package deploy

import (
	"bytes"
	"encoding/base64"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/tocsin/tocsin/internal/app"
)

// manifests decodes every Kubernetes object under kubernetes/ with the
// Kubernetes API's own types, strictly: an unknown or misspelt field, a
// wrong type or a duplicate key fails, as `kubectl apply` would refuse it.
func manifests(t *testing.T) map[string][]runtime.Object {
	t.Helper()
	decode := serializer.NewCodecFactory(scheme.Scheme, serializer.EnableStrict).UniversalDeserializer()
	files, err := filepath.Glob("kubernetes/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests: %v", err)
	}
	out := map[string][]runtime.Object{}
	for _, f := range files {
		if filepath.Base(f) == "kustomization.yaml" {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, doc := range bytes.Split(data, []byte("\n---\n")) {
			if len(bytes.TrimSpace(doc)) == 0 {
				continue
			}
			obj, _, err := decode.Decode(doc, nil, nil)
			if err != nil {
				t.Fatalf("%s, document %d: %v", f, i+1, err)
			}
			out[filepath.Base(f)] = append(out[filepath.Base(f)], obj)
		}
	}
	return out
}

// Every manifest is a valid object; the kustomization lists exactly the
// files there are; each pod mounts the config and Secret that exist, and
// probes a port its container names.
func TestTheKubernetesManifestsAreValid(t *testing.T) {
	objs := manifests(t)
	var kust struct {
		Resources []string `yaml:"resources"`
	}
	data, err := os.ReadFile("kubernetes/kustomization.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &kust); err != nil {
		t.Fatal(err)
	}
	var files []string
	for f := range objs {
		files = append(files, f)
	}
	slices.Sort(files)
	listed := slices.Clone(kust.Resources)
	slices.Sort(listed)
	if !slices.Equal(files, listed) {
		t.Fatalf("kustomization.yaml lists %v, the directory has %v", listed, files)
	}

	configMaps := map[string]*corev1.ConfigMap{}
	var pods []struct {
		name string
		spec corev1.PodSpec
	}
	deployments := 0
	for _, list := range objs {
		for _, o := range list {
			switch v := o.(type) {
			case *corev1.ConfigMap:
				configMaps[v.Name] = v
			case *appsv1.Deployment:
				deployments++
				pods = append(pods, struct {
					name string
					spec corev1.PodSpec
				}{v.Name, v.Spec.Template.Spec})
				if !labelsMatch(v.Spec.Selector.MatchLabels, v.Spec.Template.Labels) {
					t.Errorf("%s: its selector does not select its own pods", v.Name)
				}
			case *batchv1.Job:
				pods = append(pods, struct {
					name string
					spec corev1.PodSpec
				}{v.Name, v.Spec.Template.Spec})
			}
		}
	}
	if deployments != 2 {
		t.Errorf("want the API and the worker Deployments, got %d", deployments)
	}
	for _, p := range pods {
		if p.spec.SecurityContext == nil || p.spec.SecurityContext.RunAsNonRoot == nil || !*p.spec.SecurityContext.RunAsNonRoot {
			t.Errorf("%s: must run as non-root", p.name)
		}
		for _, c := range p.spec.Containers {
			if c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
				t.Errorf("%s/%s: memory request and limit", p.name, c.Name)
			}
			if len(c.EnvFrom) == 0 || c.EnvFrom[0].SecretRef == nil || c.EnvFrom[0].SecretRef.Name != "tocsin-secrets" {
				t.Errorf("%s/%s: secrets come from the Secret tocsin-secrets", p.name, c.Name)
			}
			ports := map[string]bool{}
			for _, port := range c.Ports {
				ports[port.Name] = true
			}
			for what, probe := range map[string]*corev1.Probe{"readiness": c.ReadinessProbe, "liveness": c.LivenessProbe} {
				if probe == nil {
					if !strings.HasPrefix(p.name, "tocsin-namespace") {
						t.Errorf("%s/%s: no %s probe", p.name, c.Name, what)
					}
					continue
				}
				if port := probe.HTTPGet.Port.String(); !ports[port] {
					t.Errorf("%s/%s: %s probe on port %q, which the container does not name", p.name, c.Name, what, port)
				}
			}
		}
		for _, v := range p.spec.Volumes {
			if v.ConfigMap != nil && configMaps[v.ConfigMap.Name] == nil {
				t.Errorf("%s: mounts ConfigMap %s, which is not in the manifests", p.name, v.ConfigMap.Name)
			}
		}
	}
	cm := configMaps["tocsin-config"]
	if cm == nil {
		t.Fatal("no ConfigMap tocsin-config")
	}
	loads(t, "kubernetes/config.yaml: tocsin.yaml", []byte(cm.Data["tocsin.yaml"]))
}

func labelsMatch(selector, labels map[string]string) bool {
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return len(selector) > 0
}

// loads checks that a tocsin.yaml is one `tocsin serve` accepts, given the
// secrets deploy/README.md says to put in the environment.
func loads(t *testing.T, where string, data []byte) app.Config {
	t.Helper()
	for _, k := range []string{"TWILIO_AUTH_TOKEN", "SMTP_PASSWORD", "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "TOCSIN_ONSITE_SECRET", "TOCSIN_PRESS_SECRET", "OIDC_CLIENT_SECRET"} {
		t.Setenv(k, "secret-"+k)
	}
	t.Setenv("TOCSIN_DATABASE_URL", "postgres://tocsin:secret@postgres:5432/tocsin")
	t.Setenv("TOCSIN_ACTOR_KEY", "an actor key of thirty-two characters or more")
	t.Setenv("TOCSIN_CODEC_KEYS", "k1:"+base64.StdEncoding.EncodeToString(make([]byte, 32)))
	for _, k := range []string{"TOCSIN_DEV_TWILIO", "TWILIO_ACCOUNT_SID", "TOCSIN_DEV_SLACK", "TOCSIN_DEV_SMTP", "TOCSIN_DEV_ONSITE", "TOCSIN_DEV_ANNOUNCE", "TOCSIN_DEV_OIDC", "TOCSIN_DEV_PRINT", "TOCSIN_DEV_FCM", "TOCSIN_DEV_FCM_PROJECT", "TOCSIN_DEV_APNS", "TOCSIN_DEV_APNS_CA", "TOCSIN_DEV_APNS_KEY_ID", "TOCSIN_DEV_APNS_TEAM_ID", "TOCSIN_DEV_APNS_TOPIC"} {
		t.Setenv(k, "")
	}
	path := filepath.Join(t.TempDir(), "tocsin.yaml")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := app.LoadConfig(path)
	if err != nil {
		t.Fatalf("%s: %v", where, err)
	}
	narrowRelays(t, where, c.Bounces.Allow)
	return c
}

// narrowRelays: a shipped bounce allow-list names relays, not networks
// (whoever may deliver a bounce may fail any delivery; 10.0.0.0/8 once
// admitted every pod of the cluster).
func narrowRelays(t *testing.T, where string, allow []string) {
	t.Helper()
	for _, a := range allow {
		p, err := netip.ParsePrefix(a)
		if err != nil {
			continue // an address: one relay
		}
		if p.Addr().Is4() && p.Bits() < 28 || p.Addr().Is6() && p.Bits() < 120 {
			t.Errorf("%s: bounces.allow %s admits a whole network; name the relays", where, a)
		}
	}
}

type composeFile struct {
	Services map[string]struct {
		Build *struct {
			Context    string `yaml:"context"`
			Dockerfile string `yaml:"dockerfile"`
			Target     string `yaml:"target"`
		} `yaml:"build"`
		Image     string    `yaml:"image"`
		Command   []string  `yaml:"command"`
		DependsOn yaml.Node `yaml:"depends_on"`
		Volumes   []string  `yaml:"volumes"`
	} `yaml:"services"`
	Volumes map[string]any `yaml:"volumes"`
}

// The compose set-up: every dependency is a service of the file, every
// build target a stage of the Dockerfile, every named volume declared,
// every tocsin command one the CLI has, and its tocsin.yaml loads.
func TestTheComposeSetUpHangsTogether(t *testing.T) {
	data, err := os.ReadFile("compose/compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var c composeFile
	if err := yaml.Unmarshal(data, &c); err != nil {
		t.Fatalf("compose/compose.yaml: %v", err)
	}
	stages := dockerStages(t)
	images := map[string]bool{}
	for _, s := range c.Services {
		if s.Build != nil && s.Image != "" {
			images[s.Image] = true
		}
	}
	for name, s := range c.Services {
		for _, dep := range dependencies(s.DependsOn) {
			if _, ok := c.Services[dep]; !ok {
				t.Errorf("%s depends on %s, which is not a service", name, dep)
			}
		}
		if s.Build != nil {
			if !stages[s.Build.Target] {
				t.Errorf("%s builds target %q, not a stage of the Dockerfile (%v)", name, s.Build.Target, stages)
			}
			if filepath.Clean(filepath.Join("compose", s.Build.Context, s.Build.Dockerfile)) != "../deploy/Dockerfile" {
				t.Errorf("%s builds %s/%s, not deploy/Dockerfile", name, s.Build.Context, s.Build.Dockerfile)
			}
		} else if strings.HasSuffix(s.Image, ":local") && !images[s.Image] {
			t.Errorf("%s runs %s, which no service builds", name, s.Image)
		}
		for _, v := range s.Volumes {
			src := strings.Split(v, ":")[0]
			if strings.HasPrefix(src, ".") {
				if _, err := os.Stat(filepath.Join("compose", src)); err != nil {
					t.Errorf("%s mounts %s: %v", name, src, err)
				}
			} else if _, ok := c.Volumes[src]; !ok {
				t.Errorf("%s mounts volume %s, which is not declared", name, src)
			}
		}
	}
	for _, want := range []string{"postgres", "temporal-schema", "temporal", "temporal-ui", "namespace", "serve", "worker", "peers"} {
		if _, ok := c.Services[want]; !ok {
			t.Errorf("no %s service", want)
		}
	}
	data, err = os.ReadFile("compose/tocsin.yaml")
	if err != nil {
		t.Fatal(err)
	}
	loads(t, "compose/tocsin.yaml", data)
}

// dependencies are the services of a depends_on, in either of its forms:
// a list of names, or a map from name to condition.
func dependencies(n yaml.Node) []string {
	var out []string
	switch n.Kind {
	case yaml.SequenceNode:
		for _, c := range n.Content {
			out = append(out, c.Value)
		}
	case yaml.MappingNode:
		for i := 0; i < len(n.Content); i += 2 {
			out = append(out, n.Content[i].Value)
		}
	}
	return out
}

// dockerStages are the Dockerfile's named stages; each final one runs as a
// user other than root, and every file it copies from the tree exists.
func dockerStages(t *testing.T) map[string]bool {
	t.Helper()
	data, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	stages := map[string]bool{}
	from := regexp.MustCompile(`(?m)^FROM \S+ AS (\S+)$`)
	for _, m := range from.FindAllStringSubmatch(string(data), -1) {
		stages[m[1]] = true
	}
	for _, part := range from.Split(string(data), -1)[2:] {
		if !regexp.MustCompile(`(?m)^USER (\d+|[a-z]+)`).MatchString(part) || strings.Contains(part, "\nUSER root") {
			t.Errorf("a final stage runs as root:\n%s", part)
		}
	}
	for _, m := range regexp.MustCompile(`(?m)^COPY (deploy/\S+(?: deploy/\S+)*) \S+$`).FindAllStringSubmatch(string(data), -1) {
		for _, f := range strings.Fields(m[1]) {
			if _, err := os.Stat(filepath.Join("..", f)); err != nil {
				t.Errorf("the Dockerfile copies %s: %v", f, err)
			}
		}
	}
	if !strings.Contains(string(data), "CGO_ENABLED=0") {
		t.Error("the binaries must be static (CGO_ENABLED=0)")
	}
	return stages
}
