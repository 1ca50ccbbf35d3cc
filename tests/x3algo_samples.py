"""x3algo's documented samples (CONTRACTS.md section 2), copied verbatim.

One copy, pinned by both sides: the client's wire models must parse them
(tests/venues/test_x3algo_contract.py) and the simulator's answers must carry every
field they show (tests/sim/test_x3algo_sim.py).
"""

from __future__ import annotations

from typing import Any

LIST_SAMPLE: dict[str, Any] = {
    "data": [
        {
            "id": "507f1f77bcf86cd799439011",
            "name": "RSI Momentum Strategy",
            "status": "active",
            "active": True,
            "strategyType": "momentum",
            "timeframe": "15m",
            "symbols": ["NSE:RELIANCE", "NSE:TCS"],
            "performance": {
                "totalTrades": 45,
                "winRate": 62.5,
                "totalProfit": 15000,
                "profitFactor": 1.8,
            },
            "createdAt": "2024-01-10T10:00:00Z",
            "updatedAt": "2024-01-15T10:30:00Z",
        }
    ],
    "pagination": {"page": 1, "limit": 20, "total": 2, "totalPages": 1},
}
STOP_SAMPLE = {
    "id": "507f1f77bcf86cd799439011",
    "name": "RSI Momentum Strategy",
    "status": "stopped",
    "active": False,
    "message": "Algorithm stopped successfully",
}
