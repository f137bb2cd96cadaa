FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
COPY frontend/package.json frontend/
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build
ENTRYPOINT ["node", "bin/batchiepatchie"]
