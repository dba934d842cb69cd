// Tests of the deployment validator: each check rejects a broken input (so a pass on the
// shipped files means something) and the shipped files pass.
package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// kubeScoreBin is the kube-score binary scripts/validate-deploy.sh installs.
func kubeScoreBin(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("MAXX_KUBE_SCORE")
	if bin == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			t.Fatalf("no home directory: %v", err)
		}
		bin = filepath.Join(home, ".cache", "maxx", "go", "bin", "kube-score")
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("kube-score not installed (run scripts/validate-deploy.sh): %v", err)
	}
	return bin
}

// expectOne asserts exactly one problem that contains every fragment.
func expectOne(t *testing.T, problems []string, fragments ...string) {
	t.Helper()
	if len(problems) != 1 {
		t.Fatalf("want one problem, got %d: %q", len(problems), problems)
	}
	for _, f := range fragments {
		if !strings.Contains(problems[0], f) {
			t.Errorf("problem %q does not mention %q", problems[0], f)
		}
	}
}

const serviceAccount = `# a comment-only preamble is not a document of its own
apiVersion: v1
kind: ServiceAccount
metadata: {name: ok}
`

func TestStrictDecodeRejectsAnUnknownFieldNamingFileAndDocument(t *testing.T) {
	doc := serviceAccount + `---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: s}
spec:
  replica: 2
  selector: {matchLabels: {a: b}}
  template: {metadata: {labels: {a: b}}, spec: {containers: [{name: c, image: i}]}}
`
	expectOne(t, decodeStrict("x.yaml", []byte(doc)), "x.yaml document 2 (StatefulSet)", `unknown field "replica"`)
}

func TestStrictDecodeRejectsAWrongType(t *testing.T) {
	doc := `apiVersion: v1
kind: Service
metadata: {name: s}
spec:
  ports: [{name: http, port: "ninety-one-hundred"}]
`
	expectOne(t, decodeStrict("svc.yaml", []byte(doc)), "svc.yaml document 1 (Service)", "port")
}

func TestStrictDecodeRejectsAnUnknownKindAndAnUnnamedObject(t *testing.T) {
	expectOne(t, decodeStrict("d.yaml", []byte("apiVersion: extensions/v1beta1\nkind: Deployment\nmetadata: {name: d}\n")),
		"d.yaml document 1", `unknown kind "Deployment"`)
	expectOne(t, decodeStrict("n.yaml", []byte("apiVersion: v1\nkind: Namespace\nmetadata: {labels: {a: b}}\n")),
		"n.yaml document 1 (Namespace)", "metadata.name is empty")
	expectOne(t, decodeStrict("e.yaml", []byte("# nothing here\n")), "e.yaml: no Kubernetes objects")
}

func TestClusterImagePolicyDecodesOnlyTheMirroredFields(t *testing.T) {
	doc := `apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata: {name: p}
spec:
  images: [{glob: "r/**"}]
  mode: warn
  authorities: [{key: {data: k}}]
`
	expectOne(t, decodeStrict("p.yaml", []byte(doc)), "p.yaml document 1 (ClusterImagePolicy)", `unknown field "mode"`)
	if problems := decodeStrict("p.yaml", []byte(strings.Replace(doc, "  mode: warn\n", "", 1))); len(problems) != 0 {
		t.Fatalf("policy without the extra field: %q", problems)
	}
}

func TestShippedBaseManifestsDecodeStrictly(t *testing.T) {
	if problems := checkBase(filepath.Join("..", "base")); len(problems) != 0 {
		t.Fatalf("deploy/base: %q", problems)
	}
}

// writeCompose writes a compose file named t (and the files it names) into a fresh directory.
func writeCompose(t *testing.T, compose string, files ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("x\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "docker-compose.yml")
	if err := os.WriteFile(path, []byte("name: t\n"+compose), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestComposeIsCheckedAgainstTheSpecificationAndTheRepository(t *testing.T) {
	valid := "services:\n  a:\n    image: x\n    build: .\n    volumes: [\"./conf.yaml:/conf.yaml:ro\"]\n"
	if problems := checkCompose(writeCompose(t, valid, "Dockerfile", "conf.yaml")); len(problems) != 0 {
		t.Fatalf("valid compose file: %q", problems)
	}
	expectOne(t, checkCompose(writeCompose(t, "services:\n  a:\n    image: x\n    restrat: always\n")), "restrat")
	expectOne(t, checkCompose(writeCompose(t, "services:\n  a:\n    image: x\n    read_only: maybe\n")), "read_only")
	expectOne(t, checkCompose(writeCompose(t, "services:\n  a:\n    image: \"x:${MAXX_UNSET_TAG}\"\n")), "needs environment variable MAXX_UNSET_TAG")
	expectOne(t, checkCompose(writeCompose(t, valid, "conf.yaml")), "service a: build", "Dockerfile")
	expectOne(t, checkCompose(writeCompose(t, valid, "Dockerfile")), "service a: volume source", "conf.yaml")
}

func TestShippedComposeFileIsValid(t *testing.T) {
	if problems := checkCompose(filepath.Join("..", "..", "docker-compose.yml")); len(problems) != 0 {
		t.Fatalf("docker-compose.yml: %q", problems)
	}
}

func TestKubeScoreFindsACriticalAndExceptionsMustStillFire(t *testing.T) {
	unlimited := `apiVersion: apps/v1
kind: StatefulSet
metadata: {name: s, namespace: ns}
spec:
  serviceName: s
  replicas: 1
  selector: {matchLabels: {a: b}}
  template:
    metadata: {labels: {a: b}}
    spec:
      containers: [{name: c, image: "r/i:1.0", imagePullPolicy: Always}]
`
	found, err := kubeScore(kubeScoreBin(t), []byte(unlimited))
	if err != nil {
		t.Fatal(err)
	}
	var resources bool
	for _, f := range found {
		resources = resources || f.check == "container-resources"
	}
	if !resources {
		t.Fatalf("no container-resources finding for a container without limits: %+v", found)
	}
	problems := scoreProblems(found, map[string]string{"container-resources": "test", "never-fires": "test"})
	for _, p := range problems {
		if strings.Contains(p, ": container-resources:") {
			t.Errorf("excepted check reported: %s", p)
		}
	}
	if last := problems[len(problems)-1]; !strings.Contains(last, `"never-fires" no longer fires`) {
		t.Errorf("stale exception not reported; last problem: %s", last)
	}
}

func TestShippedDeploymentPassesEveryCheck(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if problems := validate(root, kubeScoreBin(t)); len(problems) != 0 {
		t.Fatalf("%d problem(s):\n%s", len(problems), strings.Join(problems, "\n"))
	}
}
