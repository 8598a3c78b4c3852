package dockerfile

import "testing"

func TestScriptDropsConditional(t *testing.T) {
	cases := []struct {
		name, src   string
		tool, user  string
		conditional bool
		env         string // the variable an opt-in drop depends on
	}{
		{"docker-library if", "#!/bin/bash\nif [ \"$1\" = 'postgres' ]; then\n  if [ \"$(id -u)\" = '0' ]; then\n    exec gosu postgres \"$BASH_SOURCE\" \"$@\"\n  fi\nfi\nexec \"$@\"\n", "gosu", "postgres", true, ""},
		{"variable from id -u", "user=\"$(id -u)\"\nif [ \"$user\" = '0' ]; then exec su-exec redis \"$0\" \"$@\"; fi\n", "su-exec", "redis", true, ""},
		{"local variable", "f() {\n local uid; uid=$(id -u)\n if [ \"$uid\" -eq 0 ]; then exec gosu app \"$@\"; fi\n}\n", "gosu", "app", true, ""},
		{"and chain", "[ \"$(id -u)\" = 0 ] && exec gosu mysql \"$@\"\n", "gosu", "mysql", true, ""},
		{"or with not-root", "[ \"$(id -u)\" != 0 ] || exec setpriv --reuid=999 --regid=999 --init-groups \"$@\"\n", "setpriv", "999", true, ""},
		{"-a inside test", "if [ \"$1\" = 'redis-server' -a \"$(id -u)\" = '0' ]; then\n exec gosu redis \"$0\" \"$@\"\nfi\n", "gosu", "redis", true, ""},
		{"&& of tests", "if [ \"$1\" = rabbitmq-server ] && [ \"$(id -u)\" = '0' ]; then exec gosu rabbitmq \"$0\"; fi\n", "gosu", "rabbitmq", true, ""},
		{"bash test clause", "if [[ $EUID == 0 ]]; then exec runuser -u app -- \"$@\"; fi\n", "runuser", "app", true, ""},
		{"whoami root", "if [ \"$(whoami)\" = root ]; then exec su -s /bin/sh app -c \"$*\"; fi\n", "su", "app", true, ""},
		{"else of not-root", "if [ \"$(id -u)\" -ne 0 ]; then exec \"$@\"; else exec gosu app \"$@\"; fi\n", "gosu", "app", true, ""},
		{"early exit when not root", "if [ \"$(id -u)\" != '0' ]; then\n  exec \"$@\"\nfi\nchown -R app /data\nexec gosu app \"$@\"\n", "gosu", "app", true, ""},
		{"negated test", "if ! [ \"$(id -u)\" -ne 0 ]; then exec gosu app x; fi\n", "gosu", "app", true, ""},
		{"mandatory", "#!/bin/sh\nchown -R app /data\nexec gosu app \"$@\"\n", "gosu", "app", false, ""},
		{"wrong condition", "if [ \"$1\" = 'server' ]; then exec gosu app \"$@\"; fi\n", "gosu", "app", false, ""},
		{"or is not a guard", "if [ \"$(id -u)\" = 0 -o \"$FORCE\" = 1 ]; then exec gosu app x; fi\n", "gosu", "app", false, ""},
		{"then of not-root", "if [ \"$(id -u)\" != 0 ]; then exec gosu app x; fi\n", "gosu", "app", false, ""},
		{"uid other than 0", "if [ \"$(id -u)\" = 1000 ]; then exec gosu app x; fi\n", "gosu", "app", false, ""},
		{"chroot userspec", "exec chroot --userspec=app:app / \"$@\"\n", "chroot", "app:app", false, ""},
		{"userspec from variables", "exec chroot --userspec=${U}:${G} / x\n", "chroot", "", false, ""},
		{"minio: only when MINIO_USERNAME is set", "docker_switch_user() {\n\tif [ -n \"${MINIO_USERNAME}\" ] && [ -n \"${MINIO_GROUPNAME}\" ]; then\n\t\tchroot --userspec=${MINIO_UID}:${MINIO_GID} / \"$@\"\n\telse\n\t\texec \"$@\"\n\tfi\n}\ndocker_switch_user \"$@\"\n", "chroot", "", false, "MINIO_USERNAME"},
		{"bare variable test", "if [ \"$RUN_AS\" ]; then exec gosu \"$RUN_AS\" \"$@\"; fi\n", "gosu", "", false, "RUN_AS"},
		{"bash -n", "[[ -n $APP_USER ]] && exec su-exec app \"$@\"\n", "su-exec", "app", false, "APP_USER"},
		{"else of -z", "if [ -z \"$DROP\" ]; then exec \"$@\"; else exec gosu app \"$@\"; fi\n", "gosu", "app", false, "DROP"},
		{"early exit when unset", "[ -z \"${PUID:-}\" ] && exec \"$@\"\nexec gosu app \"$@\"\n", "gosu", "app", false, "PUID"},
		{"root guard inside an opt-in", "if [ -n \"$STEP\" ]; then\n if [ \"$(id -u)\" = 0 ]; then exec gosu app x; fi\nfi\n", "gosu", "app", true, ""},
		{"assigned by the script is no opt-in", "APP_USER=${APP_USER:-app}\nif [ -n \"$APP_USER\" ]; then exec gosu \"$APP_USER\" x; fi\n", "gosu", "", false, ""},
		{"a default is no opt-in", ": \"${APP_USER:=app}\"\nif [ -n \"$APP_USER\" ]; then exec gosu app x; fi\n", "gosu", "app", false, ""},
		{"then of -z", "if [ -z \"$SKIP\" ]; then exec gosu app x; fi\n", "gosu", "app", false, ""},
		{"positional", "if [ -n \"$1\" ]; then exec gosu app \"$@\"; fi\n", "gosu", "app", false, ""},
	}
	for _, c := range cases {
		drops := ScriptDrops(c.src)
		if len(drops) != 1 {
			t.Errorf("%s: %d drops %+v, want 1", c.name, len(drops), drops)
			continue
		}
		d := drops[0]
		if d.Tool != c.tool || d.User != c.user || d.Conditional != c.conditional || d.Env != c.env {
			t.Errorf("%s: got %s %q conditional=%v env=%q, want %s %q conditional=%v env=%q", c.name, d.Tool, d.User, d.Conditional, d.Env, c.tool, c.user, c.conditional, c.env)
		}
	}
	if d := ScriptDrops("chown -R app /data\nexec \"$@\"\n"); len(d) != 0 {
		t.Errorf("chown is not a step-down: %+v", d)
	}
	for _, src := range []string{"", "if [", "((", "$(id -u", "if [ \"$(id -u)\" = 0 ]; then exec gosu"} {
		_ = ScriptDrops(src) // no panic on broken scripts
	}
}

func TestEntrypointScriptsAndInstructionDrops(t *testing.T) {
	m := ParseWith("/ctx/17/Dockerfile", "FROM debian\nRUN useradd -u 999 postgres\nCOPY docker-entrypoint.sh /usr/local/bin/\nENTRYPOINT [\"docker-entrypoint.sh\"]\nCMD [\"postgres\"]\n", nil)
	st := m.Built("")
	if got := m.EntrypointScripts(st); len(got) != 1 || got[0] != "docker-entrypoint.sh" {
		t.Errorf("EntrypointScripts = %q", got)
	}
	m = ParseWith("/ctx/Dockerfile", "FROM alpine\nENTRYPOINT [\"su-exec\", \"app\", \"/app\"]\n", nil)
	if d := m.InstructionDrops(m.Built("")); len(d) != 1 || d[0].Tool != "su-exec" || d[0].User != "app" || d[0].Conditional {
		t.Errorf("InstructionDrops = %+v", d)
	}
	// The base-image lookup is the caller's.
	called := ""
	m = ParseWith("/ctx/Dockerfile", "FROM example.com/base:1\n", func(ref string) *BaseImage {
		called = ref
		return &BaseImage{Match: "example.com/base", User: "1234"}
	})
	if u := m.Built("").User(); called != "example.com/base:1" || u.Kind != KindNumeric || *u.UID != 1234 {
		t.Errorf("ParseWith lookup: called %q, user %+v", called, u)
	}
}
