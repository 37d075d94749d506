/**
 * Funding lines on aims and actions, and the PCC’s half-year budget report (DOCX, XLSX).
 */
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services/index.js';

export function registerFundingRoutes(app: FastifyInstance, services: Services): void {
  void app;
  void services;
}
