package template

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// PseudoParameters are the values Resolve uses for AWS pseudo parameters (AWS::Region, ...)
// when refs does not supply them: a local stack is one account in us-east-1.
var PseudoParameters = map[string]string{
	"AWS::Region":    "us-east-1",
	"AWS::AccountId": "000000000000",
	"AWS::Partition": "aws",
	"AWS::URLSuffix": "amazonaws.com",
	"AWS::StackName": "contrail-local",
	"AWS::StackId":   "arn:aws:cloudformation:us-east-1:000000000000:stack/contrail-local/local",
}

// ErrNoValue is returned by Resolve for !Ref AWS::NoValue: the property is to be left out.
var ErrNoValue = errors.New("AWS::NoValue")

// ErrDynamicReference is returned by Resolve for a dynamic reference
// ({{resolve:secretsmanager:...}}, {{resolve:ssm:...}}): CloudFormation would copy the
// secret's value into the template's output, a function's environment for one, where every
// reader of the function's configuration sees it. Name the secret (!Ref gives its ARN) and
// read it at run time instead; no local value is made up for one.
var ErrDynamicReference = errors.New("dynamic reference")

// Resolve resolves a value to the string CloudFormation would deploy, using refs for what
// only exists once deployed:
//   - plain scalars resolve to themselves;
//   - !Ref Param: refs[Param] if present, else the parameter's Default;
//   - !Ref Resource: refs[Resource] (a table name, bucket name, ...), an error if missing;
//   - !Ref AWS::Region and other pseudo parameters: refs, else PseudoParameters;
//   - !GetAtt X.Attr: refs["X.Attr"];
//   - !Sub with ${Name}, ${Name.Attr}, ${AWS::Region}, ${!Literal} and a variable map;
//   - dynamic references {{resolve:...}}: ErrDynamicReference;
//   - !If on a condition (evaluating !Equals, !Not, !And, !Or, Condition), !Join, !Select.
func (t *Template) Resolve(v Value, refs map[string]string) (string, error) {
	if v.n == nil {
		return "", errors.New("resolve: no value")
	}
	return t.resolve(v.n, refs, nil)
}

// FunctionEnv resolves a function's environment (Globals merged with its own). Variables
// set to !Ref AWS::NoValue are left out.
func (t *Template) FunctionEnv(f Function, refs map[string]string) (map[string]string, error) {
	names := make([]string, 0, len(f.Env))
	for k := range f.Env {
		names = append(names, k)
	}
	sort.Strings(names)
	env := make(map[string]string, len(names))
	var errs []error
	for _, k := range names {
		s, err := t.Resolve(f.Env[k], refs)
		switch {
		case errors.Is(err, ErrNoValue):
		case err != nil:
			errs = append(errs, fmt.Errorf("%s: %w", k, err))
		default:
			env[k] = s
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("environment of %s: %w", f.LogicalID, errors.Join(errs...))
	}
	return env, nil
}

func (t *Template) resolve(n *yaml.Node, refs map[string]string, vars map[string]*yaml.Node) (string, error) {
	fn, arg, ok := intrinsic(n)
	if !ok {
		switch n.Kind {
		case yaml.ScalarNode:
			if strings.Contains(n.Value, "{{resolve:") {
				return "", fmt.Errorf("resolve: %q at line %d: %w", n.Value, n.Line, ErrDynamicReference)
			}
			return n.Value, nil
		case yaml.AliasNode:
			return t.resolve(n.Alias, refs, vars)
		default:
			return "", fmt.Errorf("resolve: cannot make a string of a %s at line %d", kindName(n.Kind), n.Line)
		}
	}
	switch fn {
	case "Ref":
		return t.ref(scalar(arg), refs)
	case "Fn::GetAtt":
		id, attr := getAttParts(arg)
		return t.getAtt(id+"."+attr, refs)
	case "Fn::Sub":
		if arg.Kind == yaml.SequenceNode {
			if len(arg.Content) != 2 {
				return "", fmt.Errorf("resolve: !Sub at line %d wants [template, variables]", n.Line)
			}
			return t.expand(scalar(arg.Content[0]), refs, mapping(arg.Content[1]))
		}
		return t.expand(scalar(arg), refs, nil)
	case "Fn::If":
		if arg.Kind != yaml.SequenceNode || len(arg.Content) != 3 {
			return "", fmt.Errorf("resolve: !If at line %d wants [condition, then, else]", n.Line)
		}
		ok, err := t.condition(scalar(arg.Content[0]), refs)
		if err != nil {
			return "", err
		}
		if ok {
			return t.resolve(arg.Content[1], refs, vars)
		}
		return t.resolve(arg.Content[2], refs, vars)
	case "Fn::Join":
		if arg.Kind != yaml.SequenceNode || len(arg.Content) != 2 {
			return "", fmt.Errorf("resolve: !Join at line %d wants [delimiter, list]", n.Line)
		}
		var parts []string
		for _, p := range seq(arg.Content[1]) {
			s, err := t.resolve(p, refs, vars)
			if err != nil {
				return "", err
			}
			parts = append(parts, s)
		}
		return strings.Join(parts, scalar(arg.Content[0])), nil
	case "Fn::Select":
		if arg.Kind != yaml.SequenceNode || len(arg.Content) != 2 {
			return "", fmt.Errorf("resolve: !Select at line %d wants [index, list]", n.Line)
		}
		i, err := strconv.Atoi(scalar(arg.Content[0]))
		list := seq(arg.Content[1])
		if err != nil || i < 0 || i >= len(list) {
			return "", fmt.Errorf("resolve: !Select at line %d: bad index %q", n.Line, scalar(arg.Content[0]))
		}
		return t.resolve(list[i], refs, vars)
	}
	return "", fmt.Errorf("resolve: %s at line %d is not supported locally", fn, n.Line)
}

// ref resolves !Ref name.
func (t *Template) ref(name string, refs map[string]string) (string, error) {
	if name == "AWS::NoValue" {
		return "", ErrNoValue
	}
	if v, ok := refs[name]; ok {
		return v, nil
	}
	if v, ok := PseudoParameters[name]; ok {
		return v, nil
	}
	if p, ok := t.parameters[name]; ok {
		if d := get(p, "Default"); d != nil {
			return scalar(d), nil
		}
		return "", fmt.Errorf("resolve: parameter %s has no Default and refs has no %q", name, name)
	}
	if _, ok := t.resources[name]; ok {
		return "", fmt.Errorf("resolve: no local value for resource %s (refs[%q])", name, name)
	}
	return "", fmt.Errorf("resolve: %s is neither a parameter nor a resource", name)
}

func (t *Template) getAtt(name string, refs map[string]string) (string, error) {
	if v, ok := refs[name]; ok {
		return v, nil
	}
	return "", fmt.Errorf("resolve: no local value for %s (refs[%q])", name, name)
}

// expand replaces the ${...} variables of a !Sub template.
func (t *Template) expand(s string, refs map[string]string, vars map[string]*yaml.Node) (string, error) {
	if strings.Contains(s, "{{resolve:") {
		return "", fmt.Errorf("resolve: !Sub %q: %w", s, ErrDynamicReference)
	}
	var b strings.Builder
	for len(s) > 0 {
		switch {
		case strings.HasPrefix(s, "${!"):
			b.WriteString("${")
			s = s[3:]
		case strings.HasPrefix(s, "${"):
			end := strings.IndexByte(s, '}')
			if end < 0 {
				return "", fmt.Errorf("resolve: unterminated ${ in !Sub %q", s)
			}
			name := strings.TrimSpace(s[2:end])
			var v string
			var err error
			switch vn, ok := vars[name]; {
			case ok:
				v, err = t.resolve(vn, refs, nil)
			case strings.Contains(name, ".") && !strings.HasPrefix(name, "AWS::"):
				v, err = t.getAtt(name, refs)
			default:
				v, err = t.ref(name, refs)
			}
			if err != nil {
				return "", err
			}
			b.WriteString(v)
			s = s[end+1:]
		default:
			b.WriteByte(s[0])
			s = s[1:]
		}
	}
	return b.String(), nil
}

// condition evaluates a named condition of the Conditions section.
func (t *Template) condition(name string, refs map[string]string) (bool, error) {
	c, ok := t.conditions[name]
	if !ok {
		return false, fmt.Errorf("resolve: no condition %s", name)
	}
	ok, err := t.evalCondition(c, refs)
	if err != nil {
		return false, fmt.Errorf("condition %s: %w", name, err)
	}
	return ok, nil
}

func (t *Template) evalCondition(n *yaml.Node, refs map[string]string) (bool, error) {
	fn, arg, ok := intrinsic(n)
	if !ok {
		switch scalar(n) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		return false, fmt.Errorf("line %d is not a condition", n.Line)
	}
	switch fn {
	case "Condition":
		return t.condition(scalar(arg), refs)
	case "Fn::Equals":
		if arg.Kind != yaml.SequenceNode || len(arg.Content) != 2 {
			return false, fmt.Errorf("!Equals at line %d wants two values", n.Line)
		}
		a, err := t.resolve(arg.Content[0], refs, nil)
		if err != nil {
			return false, err
		}
		b, err := t.resolve(arg.Content[1], refs, nil)
		if err != nil {
			return false, err
		}
		return a == b, nil
	case "Fn::Not":
		items := seq(arg)
		if len(items) != 1 {
			return false, fmt.Errorf("!Not at line %d wants one condition", n.Line)
		}
		ok, err := t.evalCondition(items[0], refs)
		return !ok, err
	case "Fn::And", "Fn::Or":
		and := fn == "Fn::And"
		for _, c := range seq(arg) {
			ok, err := t.evalCondition(c, refs)
			if err != nil {
				return false, err
			}
			if ok != and {
				return ok, nil
			}
		}
		return and, nil
	}
	return false, fmt.Errorf("%s at line %d is not a condition function", fn, n.Line)
}

func kindName(k yaml.Kind) string {
	switch k {
	case yaml.SequenceNode:
		return "list"
	case yaml.MappingNode:
		return "mapping"
	case yaml.DocumentNode:
		return "document"
	}
	return "node"
}
