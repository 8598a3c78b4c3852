// Package dockerfiletest generates the Dockerfiles the benchmarks and cache tests edit.
package dockerfiletest

import (
	"fmt"
	"strings"
)

// Generate returns a realistic multi-stage Dockerfile of exactly lines lines
// (at least 20): a build stage, a runtime-deps stage creating the user, and a final stage
// padded with RUN/ENV/LABEL/COPY/comment lines (a new intermediate stage every 200 lines).
// The benchmarks edit line EditLine(lines).
func Generate(lines int) string {
	lines = max(lines, 20)
	head := []string{
		"# syntax=docker/dockerfile:1",
		"ARG GO_VERSION=1.22",
		"FROM golang:${GO_VERSION} AS build",
		"WORKDIR /src",
		"COPY go.mod go.sum ./",
		"RUN go mod download",
		"COPY . .",
		"RUN CGO_ENABLED=0 go build -o /out/app ./cmd/app",
		"",
		"FROM debian:bookworm-slim AS runtime-deps",
		"RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates tzdata && rm -rf /var/lib/apt/lists/*",
		"RUN groupadd -g 10001 app && useradd -u 10001 -g 0 -m app",
		"",
		"FROM runtime-deps AS final",
		"COPY --from=build --chown=10001:0 /out/app /usr/local/bin/app",
	}
	tail := []string{
		"WORKDIR /app",
		"VOLUME /app/data",
		"EXPOSE 8080",
		"USER 10001:0",
		`ENTRYPOINT ["/usr/local/bin/app"]`,
	}
	out := append([]string(nil), head...)
	stage := 0
	for i := 0; len(out) < lines-len(tail); i++ {
		if i > 0 && i%200 == 0 {
			stage++
			out = append(out, fmt.Sprintf("FROM final AS layer%d", stage))
			continue
		}
		switch i % 6 {
		case 0:
			out = append(out, fmt.Sprintf("RUN mkdir -p /app/data%d && chown 10001:0 /app/data%d && chmod g=u /app/data%d", i, i, i))
		case 1:
			out = append(out, fmt.Sprintf("ENV APP_OPTION_%d=value-%d", i, i))
		case 2:
			out = append(out, fmt.Sprintf(`LABEL org.example.key%d="value %d"`, i, i))
		case 3:
			out = append(out, fmt.Sprintf("# step %d: configuration", i))
		case 4:
			out = append(out, fmt.Sprintf("COPY --chown=10001:0 conf/%d.yaml /etc/app/%d.yaml", i, i))
		case 5:
			out = append(out, fmt.Sprintf("RUN set -eux; test -d /app/data%d || exit 1", i-5))
		}
	}
	out = append(out, tail...)
	return strings.Join(out, "\n") + "\n"
}

// EditLine is the line the benchmarks edit: a RUN line in the middle of the final stage.
func EditLine(lines int) int {
	l := strings.Split(Generate(lines), "\n")
	for n := len(l) / 2; n < len(l); n++ {
		if strings.HasPrefix(l[n], "RUN mkdir") {
			return n
		}
	}
	return 15
}
