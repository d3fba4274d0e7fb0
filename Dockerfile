# One image for every role: docker-compose runs it as "migrate", "api" and "worker".
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -o /out/billing ./cmd/billing

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/billing /usr/local/bin/billing
ENTRYPOINT ["/usr/local/bin/billing"]
CMD ["api"]
