// Command validate checks MAXX's deployment files offline with real validators and exits
// non-zero, printing every problem, when one of them fails:
//
//  1. every document of deploy/base/*.yaml decodes strictly (unknown fields and wrong types
//     fail) into the Kubernetes API type of its apiVersion/kind; an unknown kind fails too;
//  2. deploy/kustomization.yaml renders with kustomize, and kube-score finds nothing CRITICAL
//     in the rendered manifests except the exceptions listed in scoreExceptions;
//  3. docker-compose.yml loads with compose-go against the Compose specification (schema
//     validation on, no environment variables needed) and every build context and bind-mounted
//     file it names exists.
//
// Usage: validate [-kube-score path] [repo-root] (default: the current directory).
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// scoreExceptions are the kube-score checks whose CRITICAL findings are deliberate, each with
// the reason. A listed check that no longer fires is reported too, so the list stays honest.
var scoreExceptions = map[string]string{
	"pod-probes-identical": "the spec puts liveness and readiness both on /healthz; they differ in period and thresholds, not in endpoint",
}

// ClusterImagePolicy mirrors the fields of sigstore policy-controller's
// policy.sigstore.dev/v1beta1 ClusterImagePolicy that deploy/base/image-policy.yaml uses (the
// CRD's Go types would pull in all of sigstore): spec.images[].glob and
// spec.authorities[].key.{hashAlgorithm,data}. Anything else in the file fails the strict
// decode and must be added here deliberately.
type ClusterImagePolicy struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		Images []struct {
			Glob string `json:"glob"`
		} `json:"images"`
		Authorities []struct {
			Key struct {
				HashAlgorithm string `json:"hashAlgorithm,omitempty"`
				Data          string `json:"data"`
			} `json:"key"`
		} `json:"authorities"`
	} `json:"spec"`
}

// newObject returns an empty value of the API type for apiVersion/kind, or nil when the kind is
// not one MAXX deploys.
func newObject(apiVersion, kind string) any {
	switch apiVersion + "/" + kind {
	case "apps/v1/StatefulSet":
		return &appsv1.StatefulSet{}
	case "v1/Service":
		return &corev1.Service{}
	case "v1/ServiceAccount":
		return &corev1.ServiceAccount{}
	case "v1/Namespace":
		return &corev1.Namespace{}
	case "v1/ConfigMap":
		return &corev1.ConfigMap{}
	case "autoscaling/v2/HorizontalPodAutoscaler":
		return &autoscalingv2.HorizontalPodAutoscaler{}
	case "networking.k8s.io/v1/NetworkPolicy":
		return &networkingv1.NetworkPolicy{}
	case "policy/v1/PodDisruptionBudget":
		return &policyv1.PodDisruptionBudget{}
	case "policy.sigstore.dev/v1beta1/ClusterImagePolicy":
		return &ClusterImagePolicy{}
	}
	return nil
}

// splitDocuments returns the YAML documents of data, skipping ones that hold only comments.
func splitDocuments(data []byte) ([][]byte, error) {
	reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var docs [][]byte
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		docs = append(docs, doc)
	}
}

// onlyComments reports whether a YAML document has no content besides comments and blanks.
func onlyComments(doc []byte) bool {
	for _, line := range strings.Split(string(doc), "\n") {
		trimmed := strings.TrimSpace(line)
		if trimmed != "" && !strings.HasPrefix(trimmed, "#") && trimmed != "---" {
			return false
		}
	}
	return true
}

// decodeStrict decodes every document of one manifest file into its API type and returns one
// message per problem, naming the file and the document (1-based).
func decodeStrict(name string, data []byte) []string {
	docs, err := splitDocuments(data)
	if err != nil {
		return []string{fmt.Sprintf("%s: cannot split into YAML documents: %v", name, err)}
	}
	var problems []string
	n := 0
	for _, doc := range docs {
		if onlyComments(doc) {
			continue
		}
		n++
		var meta metav1.TypeMeta
		if err := yaml.Unmarshal(doc, &meta); err != nil {
			problems = append(problems, fmt.Sprintf("%s document %d: not a Kubernetes object: %v", name, n, err))
			continue
		}
		obj := newObject(meta.APIVersion, meta.Kind)
		if obj == nil {
			problems = append(problems, fmt.Sprintf("%s document %d: unknown kind %q (apiVersion %q)", name, n, meta.Kind, meta.APIVersion))
			continue
		}
		if err := yaml.UnmarshalStrict(doc, obj); err != nil {
			problems = append(problems, fmt.Sprintf("%s document %d (%s): %v", name, n, meta.Kind, err))
			continue
		}
		if objectName(obj) == "" {
			problems = append(problems, fmt.Sprintf("%s document %d (%s): metadata.name is empty", name, n, meta.Kind))
		}
	}
	if n == 0 {
		problems = append(problems, fmt.Sprintf("%s: no Kubernetes objects", name))
	}
	return problems
}

// objectName returns metadata.name of a decoded object.
func objectName(obj any) string {
	if o, ok := obj.(metav1.Object); ok {
		return o.GetName()
	}
	return ""
}

// checkBase decodes every deploy/base/*.yaml file strictly.
func checkBase(baseDir string) []string {
	files, err := filepath.Glob(filepath.Join(baseDir, "*.yaml"))
	if err != nil || len(files) == 0 {
		return []string{fmt.Sprintf("%s: no manifests found (%v)", baseDir, err)}
	}
	sort.Strings(files)
	var problems []string
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", file, err))
			continue
		}
		problems = append(problems, decodeStrict(file, data)...)
	}
	return problems
}

// render builds the kustomization in dir (resources, namespace, images, configMapGenerator)
// the way `kubectl apply -k` would and returns the rendered YAML stream.
func render(dir string) ([]byte, error) {
	resources, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return nil, fmt.Errorf("kustomize build %s: %w", dir, err)
	}
	return resources.AsYaml()
}

// finding is one CRITICAL kube-score result.
type finding struct {
	object, check, detail string
}

// scoreReport is the part of kube-score's `-o json` (v2) output read here.
type scoreReport []struct {
	ObjectName string `json:"object_name"`
	Checks     []struct {
		Check struct {
			ID string `json:"id"`
		} `json:"check"`
		Grade    int  `json:"grade"`
		Skipped  bool `json:"skipped"`
		Comments []struct {
			Path    string `json:"path"`
			Summary string `json:"summary"`
		} `json:"comments"`
	} `json:"checks"`
}

// gradeCritical is kube-score's CRITICAL grade (scorecard.GradeCritical).
const gradeCritical = 1

// kubeScore runs every default kube-score check (the binary at kubeScoreBin, v1.20.0: its
// library needs older k8s.io/api packages than this module) over a rendered manifest stream
// and returns the CRITICAL findings.
func kubeScore(kubeScoreBin string, rendered []byte) ([]finding, error) {
	tmp, err := os.CreateTemp("", "maxx-rendered-*.yaml")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(rendered); err != nil {
		return nil, err
	}
	if err := tmp.Close(); err != nil {
		return nil, err
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(kubeScoreBin, "score", "--output-format", "json", "--kubernetes-version", "v1.30", tmp.Name())
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run() // exits 1 on CRITICAL findings: the JSON says which
	var report scoreReport
	if err := json.Unmarshal(stdout.Bytes(), &report); err != nil {
		return nil, fmt.Errorf("kube-score: %v (%v): %s", runErr, err, strings.TrimSpace(stderr.String()))
	}
	var found []finding
	for _, obj := range report {
		for _, ts := range obj.Checks {
			if ts.Skipped || ts.Grade > gradeCritical {
				continue
			}
			var details []string
			for _, c := range ts.Comments {
				details = append(details, strings.TrimSpace(c.Path+" "+c.Summary))
			}
			found = append(found, finding{obj.ObjectName, ts.Check.ID, strings.Join(details, "; ")})
		}
	}
	sort.Slice(found, func(i, j int) bool {
		if found[i].object != found[j].object {
			return found[i].object < found[j].object
		}
		return found[i].check < found[j].check
	})
	return found, nil
}

// scoreProblems turns kube-score findings into problems, minus the listed exceptions; an
// exception that matched nothing is a problem too.
func scoreProblems(found []finding, exceptions map[string]string) []string {
	var problems []string
	used := map[string]bool{}
	for _, f := range found {
		if _, ok := exceptions[f.check]; ok {
			used[f.check] = true
			continue
		}
		problems = append(problems, fmt.Sprintf("kube-score CRITICAL %s: %s: %s", f.object, f.check, f.detail))
	}
	var stale []string
	for check := range exceptions {
		if !used[check] {
			stale = append(stale, check)
		}
	}
	sort.Strings(stale)
	for _, check := range stale {
		problems = append(problems, fmt.Sprintf("kube-score exception %q no longer fires: remove it from scoreExceptions", check))
	}
	return problems
}

// checkCompose loads a compose file against the Compose specification with no environment
// and checks that its build contexts (with their Dockerfile) and bind-mount sources exist.
func checkCompose(file string) []string {
	dir := filepath.Dir(file)
	content, err := os.ReadFile(file)
	if err != nil {
		return []string{fmt.Sprintf("%s: %v", file, err)}
	}
	var needed []string
	details := types.ConfigDetails{
		WorkingDir:  dir,
		ConfigFiles: []types.ConfigFile{{Filename: file, Content: content}},
		Environment: types.Mapping{},
	}
	project, err := loader.LoadWithContext(context.Background(), details, func(o *loader.Options) {
		o.SkipValidation = false
		o.SkipInterpolation = false
		o.ResolvePaths = true
		o.Interpolate.LookupValue = func(key string) (string, bool) {
			needed = append(needed, key)
			return "", false
		}
	})
	if err != nil {
		return []string{fmt.Sprintf("%s: %v", file, err)}
	}
	var problems []string
	for _, key := range needed {
		problems = append(problems, fmt.Sprintf("%s: needs environment variable %s", file, key))
	}
	names := make([]string, 0, len(project.Services))
	for name := range project.Services {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		service := project.Services[name]
		if service.Build != nil {
			dockerfile := service.Build.Dockerfile
			if dockerfile == "" {
				dockerfile = "Dockerfile"
			}
			if !filepath.IsAbs(dockerfile) {
				dockerfile = filepath.Join(service.Build.Context, dockerfile)
			}
			if _, err := os.Stat(dockerfile); err != nil {
				problems = append(problems, fmt.Sprintf("%s: service %s: build: %v", file, name, err))
			}
		}
		for _, volume := range service.Volumes {
			if volume.Type != types.VolumeTypeBind {
				continue
			}
			if _, err := os.Stat(volume.Source); err != nil {
				problems = append(problems, fmt.Sprintf("%s: service %s: volume source: %v", file, name, err))
			}
		}
	}
	return problems
}

// validate runs every check over the repository at root and returns all problems.
func validate(root, kubeScoreBin string) []string {
	problems := checkBase(filepath.Join(root, "deploy", "base"))
	deployDir := filepath.Join(root, "deploy")
	rendered, err := render(deployDir)
	if err != nil {
		problems = append(problems, err.Error())
	} else {
		problems = append(problems, decodeStrict("kustomize build deploy/", rendered)...)
		found, err := kubeScore(kubeScoreBin, rendered)
		if err != nil {
			problems = append(problems, err.Error())
		} else {
			problems = append(problems, scoreProblems(found, scoreExceptions)...)
		}
	}
	problems = append(problems, checkCompose(filepath.Join(root, "docker-compose.yml"))...)
	return problems
}

func main() {
	kubeScoreBin := flag.String("kube-score", "kube-score", "the kube-score v1.20.0 binary")
	flag.Parse()
	root := "."
	if flag.NArg() > 0 {
		root = flag.Arg(0)
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		fmt.Fprintln(os.Stderr, "validate:", err)
		os.Exit(2)
	}
	problems := validate(abs, *kubeScoreBin)
	for _, p := range problems {
		fmt.Fprintln(os.Stderr, "validate-deploy:", p)
	}
	if len(problems) > 0 {
		fmt.Fprintf(os.Stderr, "validate-deploy: %d problem(s)\n", len(problems))
		os.Exit(1)
	}
	fmt.Println("validate-deploy: manifests decode strictly, kube-score has no unexpected CRITICAL, compose file is valid")
}
