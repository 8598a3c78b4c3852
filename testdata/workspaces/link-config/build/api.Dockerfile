FROM golang:1.24 AS build
RUN go build -o /api .

FROM gcr.io/distroless/static:nonroot AS runtime
COPY --from=build /api /api
USER 65532:65532
ENTRYPOINT ["/api"]
