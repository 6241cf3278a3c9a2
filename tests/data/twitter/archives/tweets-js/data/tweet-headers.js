window.YTD.tweet_headers.part0 = [
  {
    "tweet" : {
      "tweet_id" : "2008117258089410577",
      "user_id" : "3001960000",
      "created_at" : "Mon Jan 05 10:03:58 +0000 2026"
    }
  },
  {
    "tweet" : {
      "tweet_id" : "2008101160350658577",
      "user_id" : "3001960000",
      "created_at" : "Mon Jan 05 09:00:00 +0000 2026"
    }
  },
  {
    "tweet" : {
      "tweet_id" : "2007891080246210577",
      "user_id" : "3001960000",
      "created_at" : "Sun Jan 04 19:05:13 +0000 2026"
    }
  },
  {
    "tweet" : {
      "tweet_id" : "2007364472796098577",
      "user_id" : "3001960000",
      "created_at" : "Sat Jan 03 08:12:40 +0000 2026"
    }
  },
  {
    "tweet" : {
      "tweet_id" : "2007064336790466577",
      "user_id" : "3001960000",
      "created_at" : "Fri Jan 02 12:20:02 +0000 2026"
    }
  },
  {
    "tweet" : {
      "tweet_id" : "2007063200134082577",
      "user_id" : "3001960000",
      "created_at" : "Fri Jan 02 12:15:31 +0000 2026"
    }
  },
  {
    "tweet" : {
      "tweet_id" : "2007039443596226577",
      "user_id" : "3001960000",
      "created_at" : "Fri Jan 02 10:41:07 +0000 2026"
    }
  },
  {
    "tweet" : {
      "tweet_id" : "2007036645995446272",
      "user_id" : "3001960000",
      "created_at" : "Fri Jan 02 10:30:00 +0000 2026"
    }
  }
]
